// swift-tools-version:6.0
// Hanse: a blockchain-as-a-service platform. The module arrows follow ../shared/DESIGN.md:
// a target may import only the targets listed before it in its `dependencies`.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "hanse",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hanse", targets: ["hanse"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swiftwasm/WasmKit", from: "0.4.2"),
    ],
    targets: [
        // Ids, limits, clock and randomness protocols. Standard library only.
        .target(name: "HanseCore", swiftSettings: strict),

        // C libraries, each imported by exactly one Swift target.
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]),
        .systemLibrary(
            name: "CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]),

        // The only user of CCurl: outbound HTTP (the CLI client; webhooks later).
        .target(name: "HTTPClient", dependencies: ["CCurl"], swiftSettings: strict),

        // The only user of COpenSSL.
        .target(name: "Crypto", dependencies: ["HanseCore", "COpenSSL"], swiftSettings: strict),

        // RFC 6962 / 9162 Merkle trees: hashing, proofs and their verification. Pure.
        .target(name: "Merkle", dependencies: ["HanseCore", "Crypto"], swiftSettings: strict),

        // Ledger types and their encodings: transactions, block headers, certificates. Pure.
        .target(name: "Ledger", dependencies: ["HanseCore", "Crypto", "Merkle"], swiftSettings: strict),

        // Consensus as pure state machines (solo, Tendermint BFT): no clock, network or storage.
        .target(name: "Consensus", dependencies: ["HanseCore"], swiftSettings: strict),

        // The deterministic consensus simulator: seeded network faults, crashes, Byzantine validators.
        .target(name: "Simulator", dependencies: ["HanseCore", "Crypto", "Consensus"], swiftSettings: strict),

        // Smart contracts: deploy-time module validation, the WasmKit runtime with fuel metering,
        // the host API, state overlays, the `_system` lifecycle contract; implements Ledger's
        // TransactionExecutor.
        .target(
            name: "Contracts",
            dependencies: [
                "HanseCore", "Crypto", "Ledger",
                .product(name: "WasmKit", package: "WasmKit"),
                .product(name: "WasmParser", package: "WasmKit"),
                .product(name: "WAT", package: "WasmKit"),
            ],
            swiftSettings: strict),

        // Pure HTTP/1.1 request parser and response encoder: no sockets, no Foundation.
        .target(name: "HTTP1", dependencies: ["HanseCore"], swiftSettings: strict),

        // epoll, eventfd and accept4, which Glibc's Swift module does not expose.
        .target(name: "CSystem"),
        // Sockets, epoll event loops and the connection state machine.
        .target(name: "HTTPServer", dependencies: ["HanseCore", "HTTP1", "CSystem"], swiftSettings: strict),

        // Storage interfaces and the migration catalogue (no database driver).
        .target(name: "Storage", dependencies: ["HanseCore", "Crypto"], swiftSettings: strict),

        // The only user of CLibPQ: connections, pool, transactions, COPY, migrations, embedded cluster.
        .target(
            name: "PostgresStorage",
            dependencies: [
                "HanseCore", "Crypto", "Merkle", "Ledger", "Storage", "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        // The chain runtime: per-chain workers on Dispatch, mempool, block pipeline, consensus WAL.
        .target(
            name: "Node",
            dependencies: ["HanseCore", "Crypto", "Merkle", "Ledger", "Consensus", "Contracts", "Storage", "PostgresStorage", "API", "HTTPServer", "HTTPClient",
                           .product(name: "WAT", package: "WasmKit"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),

        // Router, request context, middleware, problem responses and the routes.
        .target(
            name: "API",
            dependencies: [
                "HanseCore", "Crypto", "HTTP1", "HTTPServer",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        // Commands of the `hanse` executable, as a library so tests can reach them.
        .target(
            name: "HanseCLI",
            dependencies: [
                "HanseCore", "Crypto", "Merkle", "Ledger", "Contracts", "Storage", "PostgresStorage", "HTTP1", "HTTPServer", "API", "Simulator", "Node", "HTTPClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "WAT", package: "WasmKit"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(name: "hanse", dependencies: ["HanseCLI"], swiftSettings: strict),

        // Test support: the shared embedded PostgreSQL cluster of a test run.
        .target(
            name: "HanseTesting",
            dependencies: [
                "HanseCore", "Crypto", "Merkle", "Ledger", "Storage", "PostgresStorage", "Contracts",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        .testTarget(name: "HanseCoreTests", dependencies: ["HanseCore"], swiftSettings: strict),
        .testTarget(name: "CryptoTests", dependencies: ["Crypto", "HanseCore"], exclude: ["crosscheck.py", "Vectors"], swiftSettings: strict),
        .testTarget(name: "MerkleTests", dependencies: ["Merkle", "HanseCore"], swiftSettings: strict),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "Crypto", "Merkle", "HanseCore"], swiftSettings: strict),
        .testTarget(
            name: "NodeTests",
            dependencies: ["Node", "API", "HTTPServer", "Merkle", "Consensus", "Contracts", "PostgresStorage", "Ledger", "Crypto", "HanseCore", "HanseTesting",
                           "HanseCLI",
                           .product(name: "WAT", package: "WasmKit")],
            swiftSettings: strict),
        .testTarget(name: "ConsensusTests", dependencies: ["Consensus", "Simulator", "HanseCore"], swiftSettings: strict),
        .testTarget(
            name: "ContractsTests",
            dependencies: ["Contracts", "Ledger", "Crypto", "HanseCore", "HanseTesting", .product(name: "WAT", package: "WasmKit")],
            swiftSettings: strict),
        .testTarget(name: "HTTP1Tests", dependencies: ["HTTP1", "HanseCore", "HanseTesting"], swiftSettings: strict),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "HTTP1", "HanseCore", "HanseTesting"], swiftSettings: strict),
        .testTarget(
            name: "APITests",
            dependencies: ["API", "HTTPServer", "HTTP1", "HanseCore", "HanseTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .testTarget(
            name: "PostgresStorageTests",
            dependencies: ["PostgresStorage", "Storage", "HanseTesting", "Merkle", "Ledger", "Crypto", "HanseCore", "Contracts",
                           .product(name: "WAT", package: "WasmKit")],
            swiftSettings: strict),
        .testTarget(
            name: "HanseCLITests",
            dependencies: ["HanseCLI", "hanse", "HanseTesting", "PostgresStorage", "Crypto", "Ledger", "HanseCore"],
            swiftSettings: strict),
    ]
)
