//! The embedded chart font.
//!
//! plotters is built without font-kit/fontconfig (no system libraries on a fresh machine), so
//! text needs a font registered from bytes. DejaVu Sans (Bitstream Vera licence, see
//! `assets/fonts/LICENSE-DejaVu.txt`) is compiled into the binary and registered once as
//! "sans-serif", the family plotters uses by default.

use std::sync::OnceLock;

use plotters::style::FontStyle;

static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Register the embedded font under "sans-serif" (idempotent, thread-safe). Call before
/// drawing any text; every chart renderer does.
pub fn ensure_registered() -> crate::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        // InvalidFont is neither Debug nor Error, so map it by hand.
        plotters::style::register_font("sans-serif", FontStyle::Normal, DEJAVU_SANS).is_ok()
            && plotters::style::register_font("sans-serif", FontStyle::Bold, DEJAVU_SANS).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(crate::Error::Other(
            "the embedded chart font (DejaVu Sans) could not be loaded".into(),
        ))
    }
}
