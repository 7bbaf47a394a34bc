/// Lower-case hexadecimal encoding and strict decoding.
public enum Hex {
    /// Lower-case hex of `bytes`.
    public static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        let count = bytes.underestimatedCount
        var iterator = bytes.makeIterator()
        // Written straight into the string's storage; a sequence longer than its
        // `underestimatedCount` goes on through the general path.
        var rest: [UInt8] = []
        let head = String(unsafeUninitializedCapacity: count * 2) { buffer in
            for index in 0..<count {
                guard let byte = iterator.next() else { return index * 2 }
                buffer[index * 2] = digit(byte >> 4)
                buffer[index * 2 + 1] = digit(byte & 0x0F)
            }
            return count * 2
        }
        while let byte = iterator.next() {
            rest.append(digit(byte >> 4))
            rest.append(digit(byte & 0x0F))
        }
        return rest.isEmpty ? head : head + String(decoding: rest, as: UTF8.self)
    }

    /// Appends the lower-case hex of `bytes` to `out` (for callers that build bytes, not strings).
    @inlinable
    public static func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        for byte in bytes {
            out.append(digit(byte >> 4))
            out.append(digit(byte & 0x0F))
        }
    }

    @usableFromInline @inline(__always)
    static func digit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") - 10 + value
    }

    /// The bytes of an even-length hex string (either case), or nil if it is not one.
    public static func decode<Text: StringProtocol>(_ text: Text) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
