//! The uniffi bindings generator, built at the library's own uniffi version.

fn main() {
    uniffi::uniffi_bindgen_main()
}
