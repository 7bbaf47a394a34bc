;; kv: the smallest useful contract, in WebAssembly text (deploy it as `wat`, no toolchain needed).
;; put: stores the call's args (a JSON document) under the key "k" and emits a "put" event with it.
;; get: returns what put stored.
(module
  (import "hanse" "args" (func $args (param i32 i32) (result i32)))
  (import "hanse" "state_set" (func $set (param i32 i32 i32 i32)))
  (import "hanse" "state_get" (func $get (param i32 i32 i32 i32) (result i32)))
  (import "hanse" "return_value" (func $ret (param i32 i32)))
  (import "hanse" "emit" (func $emit (param i32 i32 i32 i32)))
  (memory (export "memory") 1 1)
  (data (i32.const 2048) "k")
  (data (i32.const 2064) "put")
  (func (export "put")
    (local $n i32)
    (local.set $n (call $args (i32.const 0) (i32.const 1024)))
    (call $set (i32.const 2048) (i32.const 1) (i32.const 0) (local.get $n))
    (call $emit (i32.const 2064) (i32.const 3) (i32.const 0) (local.get $n)))
  (func (export "get")
    (local $n i32)
    (local.set $n (call $get (i32.const 2048) (i32.const 1) (i32.const 0) (i32.const 1024)))
    (call $ret (i32.const 0) (local.get $n))))
