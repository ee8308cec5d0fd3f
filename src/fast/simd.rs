//! The vector instructions under the fast kernels, for every CPU (chapter
//! `16-fast-convolution` and its appendix).
//!
//! The kernels of [`crate::fast::direct`] and [`crate::fast::winograd`] are written once,
//! over a *vector of 16 floats* and a handful of operations on it (the trait [`Simd`]).
//! Each instruction set implements that vector its own way:
//!
//! | [`Isa`] | one vector of 16 floats | where |
//! |---|---|---|
//! | `Avx512` | one 512-bit register | x86-64 with AVX-512F |
//! | `Avx2` | two 256-bit registers | x86-64 with AVX2 and FMA (most laptops and servers) |
//! | `Portable` | `[f32; 16]` in plain Rust, which the compiler turns into NEON on Apple Silicon and other ARM CPUs | everywhere |
//!
//! Every path does the same arithmetic in the same order: each lane of a sum is a chain of
//! fused multiply-adds (one rounding each, [`f32::mul_add`]) over the taps in one order,
//! and the sixteen lanes are added up by one fixed tree ([`Simd::sum`]). So the three paths
//! give bit-identical results, which the tests check.
//!
//! Which path runs is decided once ([`active`]): the widest the CPU has, limited by the
//! environment variable `CNN_BOOK_ISA` (`avx512`, `avx2` or `portable`) or by
//! [`limit_isa`], so that a machine with AVX-512 can also run, and test, the narrower paths.
//!
//! **Why written here, not taken from a crate.** The kernels need a vector of a fixed 16
//! floats on every CPU, so that the flat layouts, tile plans and summation order are the
//! same everywhere; SIMD crates such as `pulp` give a vector of the machine's native width
//! (8 floats with AVX2, 4 with NEON), which would change the layouts from one machine to
//! the next. Three short implementations of nine operations are less to trust than that.
//!
//! **The `unsafe` code of the fast kernels is all in this file.** Three kinds:
//! 1. calling the functions compiled for AVX-512 or AVX2 ([`Avx512::run`],
//!    [`Avx2::run`]): sound because a token of those types is only made after the CPU has
//!    been asked ([`Avx512::new`], [`Avx2::new`]);
//! 2. the intrinsics themselves inside the operations of those tokens (same reason), and
//!    their loads and stores, always from `&[f32; 16]` or a slice whose length was checked
//!    in the same function;
//! 3. loads through [`Strip`] and [`Lockstep`], which check the furthest load once instead
//!    of every load of a kernel's inner loop;
//! 4. new vectors handed out without a pass zeroing them first ([`map_planes`]): sound
//!    because its one loop writes every index of every output before their lengths are
//!    set.
//!
//! The tests at the end of this file hold every operation of every token to the portable
//! one, and the windows to their checks.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU8, Ordering};

/// Floats per vector of the kernels.
pub const LANES: usize = 16;

/// An instruction set of the fast kernels, narrowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Isa {
    /// Plain Rust on `[f32; 16]` (NEON on ARM, by the compiler).
    Portable,
    /// x86-64 AVX2 with FMA: two 256-bit registers per vector.
    Avx2,
    /// x86-64 AVX-512F: one 512-bit register per vector.
    Avx512,
}

impl Isa {
    /// Every instruction set, narrowest first.
    pub const ALL: [Isa; 3] = [Isa::Portable, Isa::Avx2, Isa::Avx512];

    /// The name used by `CNN_BOOK_ISA` and in reports: `portable`, `avx2`, `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    /// Parses a name of [`Isa::name`] (any case).
    pub fn parse(name: &str) -> Option<Isa> {
        Isa::ALL
            .into_iter()
            .find(|isa| isa.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Whether this CPU can run the instruction set.
    pub fn available(self) -> bool {
        match self {
            Isa::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => Avx2::new().is_some(),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => Avx512::new().is_some(),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// A plain-language description, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Isa::Portable if cfg!(target_arch = "aarch64") => {
                "portable Rust (NEON, by the compiler)"
            }
            Isa::Portable => "portable Rust (no vector extensions chosen at run time)",
            Isa::Avx2 => "AVX2 + FMA (two 256-bit registers per vector)",
            Isa::Avx512 => "AVX-512F (one 512-bit register per vector)",
        }
    }

    /// Whether a fused multiply-add is one instruction on this path. It is not for
    /// `Portable` on an x86-64 CPU without FMA, where [`f32::mul_add`] calls a library
    /// function: there the layers prefer the GEMM path.
    pub fn fast_fma(self) -> bool {
        self != Isa::Portable || cfg!(target_arch = "aarch64") || cfg!(target_feature = "fma")
    }
}

/// The widest instruction set this CPU has.
pub fn detected() -> Isa {
    Isa::ALL
        .into_iter()
        .rev()
        .find(|isa| isa.available())
        .unwrap_or(Isa::Portable)
}

/// No limit set yet (0), or the limit's index in [`Isa::ALL`] plus one.
static LIMIT: AtomicU8 = AtomicU8::new(0);

/// Limits the fast kernels to `isa` or narrower, for the rest of the process (a library
/// setting, like `CNN_BOOK_ISA`, which it overrides).
pub fn limit_isa(isa: Isa) {
    LIMIT.store(isa as u8 + 1, Ordering::Relaxed);
}

/// The limit of `CNN_BOOK_ISA`, read once.
///
/// # Panics
/// If the variable is set to something other than an [`Isa::name`]: a misspelt limit would
/// otherwise be silently ignored.
fn env_limit() -> Option<Isa> {
    static ENV: std::sync::OnceLock<Option<Isa>> = std::sync::OnceLock::new();
    *ENV.get_or_init(|| {
        let value = std::env::var("CNN_BOOK_ISA").ok()?;
        match Isa::parse(&value) {
            Some(isa) => Some(isa),
            None => panic!(
                "CNN_BOOK_ISA={value:?} is not one of portable, avx2, avx512 (unset it to use \
                 the widest this CPU has)"
            ),
        }
    })
}

/// The instruction set the fast kernels use: the widest this CPU has ([`detected`]),
/// limited by [`limit_isa`] or else by `CNN_BOOK_ISA`.
pub fn active() -> Isa {
    let limit = match LIMIT.load(Ordering::Relaxed) {
        0 => env_limit(),
        k => Some(Isa::ALL[k as usize - 1]),
    };
    let best = detected();
    limit.map_or(best, |l| best.min(l))
}

// ANCHOR: simd
/// Sixteen floats and the operations the kernels need, for one instruction set. A value
/// of a type that implements `Simd` is a *token*: proof that this CPU can run the
/// instructions (only [`Portable`] can be made without asking the CPU).
pub trait Simd: Copy + Send + Sync + 'static {
    /// One vector of 16 floats.
    type V: Copy;
    /// Which instruction set this is.
    const ISA: Isa;

    /// All lanes 0.
    fn zero(self) -> Self::V;
    /// All lanes `x`.
    fn splat(self, x: f32) -> Self::V;
    /// The 16 floats of `x`.
    fn load(self, x: &[f32; LANES]) -> Self::V;
    /// Writes the lanes to `to`.
    fn store(self, v: Self::V, to: &mut [f32; LANES]);
    /// Lane by lane `a + b`.
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    /// Lane by lane `a - b`.
    fn sub(self, a: Self::V, b: Self::V) -> Self::V;
    /// Lane by lane `a b + c`, rounded once.
    fn mul_add(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;

    /// Loads the 16 floats at `ptr`.
    ///
    /// # Safety
    /// `ptr..ptr + 16` must be readable floats. Only [`Strip`] and [`Lockstep`] call this,
    /// after checking.
    unsafe fn load_ptr(self, ptr: *const f32) -> Self::V;

    /// The lanes as an array.
    #[inline(always)]
    fn to_array(self, v: Self::V) -> [f32; LANES] {
        let mut a = [0.0; LANES];
        self.store(v, &mut a);
        a
    }

    /// The sum of the 16 lanes, always in this order: lanes `l` and `l + 8` first, then
    /// `l` and `l + 4`, `l` and `l + 2`, and the last two (the order of the AVX-512
    /// instruction sequence `_mm512_reduce_add_ps`).
    #[inline(always)]
    fn sum(self, v: Self::V) -> f32 {
        tree_sum(self.to_array(v))
    }

    /// Writes the lanes set in `mask`, in order, to `out` (which holds exactly that many).
    ///
    /// # Panics
    /// If `out.len()` is not the number of lanes in `mask` (with AVX-512, which counts
    /// nothing at run time, only in debug builds and tests; in release builds there a
    /// longer `out` would get zeros past the lanes, never a write outside it).
    #[inline(always)]
    fn spill(self, v: Self::V, mask: u16, out: &mut [f32]) {
        assert_eq!(out.len(), mask.count_ones() as usize);
        if mask == u16::MAX {
            // Every lane: one store (the common case, away from the ends of rows).
            let out: &mut [f32; LANES] = out.try_into().expect("16 lanes");
            return self.store(v, out);
        }
        let a = self.to_array(v);
        // The set lanes, lowest first, without a branch per lane.
        let lanes = std::iter::successors(Some(mask), |&m| Some(m & m.wrapping_sub(1)))
            .take_while(|&m| m != 0)
            .map(|m| m.trailing_zeros() as usize);
        for (o, l) in out.iter_mut().zip(lanes) {
            *o = a[l];
        }
    }

    /// The even and the odd entries of 32 floats: `(p[0], p[2], .., p[30])` and
    /// `(p[1], p[3], .., p[31])`. Entry by entry here; AVX2 and AVX-512 shuffle two loads
    /// (the Winograd input transform's even and odd columns: copied one float at a time,
    /// a vector load right after 16 scalar stores waited for them to drain).
    #[inline(always)]
    fn deinterleave(self, p: &[f32; 2 * LANES]) -> (Self::V, Self::V) {
        let (mut even, mut odd) = ([0.0; LANES], [0.0; LANES]);
        for l in 0..LANES {
            (even[l], odd[l]) = (p[2 * l], p[2 * l + 1]);
        }
        (self.load(&even), self.load(&odd))
    }

    /// The 8 x 8 block `b` transposed: `t[j][i] = b[i][j]`. Entry by entry here; AVX2
    /// shuffles it in registers (compilers did not find that themselves).
    #[inline(always)]
    fn transpose8(self, b: &[[f32; 8]; 8]) -> [[f32; 8]; 8] {
        let mut t = [[0.0; 8]; 8];
        for (i, row) in b.iter().enumerate() {
            for (j, &x) in row.iter().enumerate() {
                t[j][i] = x;
            }
        }
        t
    }

    /// Runs `f` with this token, compiled for this instruction set (everything `f` calls
    /// must be `#[inline(always)]` to be compiled so too).
    fn run<R>(self, f: impl FnOnce(Self) -> R) -> R;
}
// ANCHOR_END: simd

/// The fixed summation tree of [`Simd::sum`].
#[inline(always)]
pub fn tree_sum(a: [f32; LANES]) -> f32 {
    let mut h = [0.0f32; 8];
    for l in 0..8 {
        h[l] = a[l] + a[l + 8];
    }
    let q = [h[0] + h[4], h[1] + h[5], h[2] + h[6], h[3] + h[7]];
    let e = [q[0] + q[2], q[1] + q[3]];
    e[0] + e[1]
}

/// The portable path: plain Rust on arrays. Always available.
#[derive(Debug, Clone, Copy, Default)]
pub struct Portable;

impl Simd for Portable {
    type V = [f32; LANES];
    const ISA: Isa = Isa::Portable;

    #[inline(always)]
    fn zero(self) -> Self::V {
        [0.0; LANES]
    }
    #[inline(always)]
    fn splat(self, x: f32) -> Self::V {
        [x; LANES]
    }
    #[inline(always)]
    fn load(self, x: &[f32; LANES]) -> Self::V {
        *x
    }
    #[inline(always)]
    fn store(self, v: Self::V, to: &mut [f32; LANES]) {
        *to = v;
    }
    // Plain loops, not `std::array::from_fn`: its closures are not always inlined, and a
    // call per lane would cost more than the arithmetic.
    #[inline(always)]
    fn add(self, mut a: Self::V, b: Self::V) -> Self::V {
        for l in 0..LANES {
            a[l] += b[l];
        }
        a
    }
    #[inline(always)]
    fn sub(self, mut a: Self::V, b: Self::V) -> Self::V {
        for l in 0..LANES {
            a[l] -= b[l];
        }
        a
    }
    #[inline(always)]
    fn mul_add(self, a: Self::V, b: Self::V, mut c: Self::V) -> Self::V {
        for l in 0..LANES {
            c[l] = a[l].mul_add(b[l], c[l]);
        }
        c
    }
    #[inline(always)]
    unsafe fn load_ptr(self, ptr: *const f32) -> Self::V {
        // SAFETY: the caller guarantees 16 readable floats at `ptr`.
        unsafe { std::ptr::read_unaligned(ptr as *const [f32; LANES]) }
    }
    #[inline(always)]
    fn run<R>(self, f: impl FnOnce(Self) -> R) -> R {
        f(self)
    }
}

#[cfg(target_arch = "x86_64")]
pub use x86::{Avx2, Avx512};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Isa, Simd, LANES};
    use std::arch::x86_64::*;

    /// The AVX2 + FMA path: a vector is two 256-bit registers. A value of this type exists
    /// only on a CPU with AVX2 and FMA ([`Avx2::new`]).
    #[derive(Debug, Clone, Copy)]
    pub struct Avx2(());

    impl Avx2 {
        /// The token, if this CPU has AVX2, FMA and POPCNT (every CPU with AVX2 has it).
        pub fn new() -> Option<Avx2> {
            (is_x86_feature_detected!("avx2")
                && is_x86_feature_detected!("fma")
                && is_x86_feature_detected!("popcnt"))
            .then_some(Avx2(()))
        }
    }

    // With POPCNT, `count_ones` (a spill's check of its lanes) is one instruction, not a
    // dozen.
    #[target_feature(enable = "avx2,fma,popcnt")]
    fn run_avx2<R>(s: Avx2, f: impl FnOnce(Avx2) -> R) -> R {
        f(s)
    }

    // SAFETY (every block in this impl): a token `Avx2` exists only after `Avx2::new`
    // found AVX2, FMA and POPCNT on this CPU, so its instructions can run; loads and
    // stores are from and to `[f32; 16]`, 8 floats at 0 and 8 floats at 8.
    impl Simd for Avx2 {
        type V = [__m256; 2];
        const ISA: Isa = Isa::Avx2;

        #[inline(always)]
        fn zero(self) -> Self::V {
            unsafe { [_mm256_setzero_ps(); 2] }
        }
        #[inline(always)]
        fn splat(self, x: f32) -> Self::V {
            unsafe { [_mm256_set1_ps(x); 2] }
        }
        #[inline(always)]
        fn load(self, x: &[f32; LANES]) -> Self::V {
            unsafe { self.load_ptr(x.as_ptr()) }
        }
        #[inline(always)]
        fn store(self, v: Self::V, to: &mut [f32; LANES]) {
            unsafe {
                _mm256_storeu_ps(to.as_mut_ptr(), v[0]);
                _mm256_storeu_ps(to.as_mut_ptr().add(8), v[1]);
            }
        }
        #[inline(always)]
        fn add(self, a: Self::V, b: Self::V) -> Self::V {
            unsafe { [_mm256_add_ps(a[0], b[0]), _mm256_add_ps(a[1], b[1])] }
        }
        #[inline(always)]
        fn sub(self, a: Self::V, b: Self::V) -> Self::V {
            unsafe { [_mm256_sub_ps(a[0], b[0]), _mm256_sub_ps(a[1], b[1])] }
        }
        #[inline(always)]
        fn mul_add(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V {
            unsafe {
                [
                    _mm256_fmadd_ps(a[0], b[0], c[0]),
                    _mm256_fmadd_ps(a[1], b[1], c[1]),
                ]
            }
        }
        #[inline(always)]
        unsafe fn load_ptr(self, ptr: *const f32) -> Self::V {
            // The caller guarantees 16 readable floats at `ptr`.
            unsafe { [_mm256_loadu_ps(ptr), _mm256_loadu_ps(ptr.add(8))] }
        }
        #[inline(always)]
        fn deinterleave(self, p: &[f32; 2 * LANES]) -> (Self::V, Self::V) {
            // SAFETY: the four loads read floats 0..8, 8..16, 16..24 and 24..32 of `p`.
            unsafe {
                let half = |at: usize| {
                    let (a, b) = (
                        _mm256_loadu_ps(p.as_ptr().add(at)),
                        _mm256_loadu_ps(p.as_ptr().add(at + 8)),
                    );
                    // (a0 a2 b0 b2 | a4 a6 b4 b6), then the middle pairs of floats swapped.
                    let order = |v: __m256| {
                        _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(
                            v,
                        )))
                    };
                    (
                        order(_mm256_shuffle_ps::<0b10_00_10_00>(a, b)),
                        order(_mm256_shuffle_ps::<0b11_01_11_01>(a, b)),
                    )
                };
                let ((e0, o0), (e1, o1)) = (half(0), half(16));
                ([e0, e1], [o0, o1])
            }
        }
        #[inline(always)]
        fn transpose8(self, b: &[[f32; 8]; 8]) -> [[f32; 8]; 8] {
            let mut t = [[0.0; 8]; 8];
            // SAFETY: every load reads one row of `b` (8 floats) and every store writes one
            // row of `t` (8 floats); the token exists only on a CPU with AVX2.
            unsafe {
                let mut r = [_mm256_setzero_ps(); 8];
                for (r, row) in r.iter_mut().zip(b) {
                    *r = _mm256_loadu_ps(row.as_ptr());
                }
                // Pairs of rows interleaved, then pairs of pairs, then the halves swapped.
                let lo = |a, b| _mm256_unpacklo_ps(a, b);
                let hi = |a, b| _mm256_unpackhi_ps(a, b);
                let (t0, t1, t2, t3) = (
                    lo(r[0], r[1]),
                    hi(r[0], r[1]),
                    lo(r[2], r[3]),
                    hi(r[2], r[3]),
                );
                let (t4, t5, t6, t7) = (
                    lo(r[4], r[5]),
                    hi(r[4], r[5]),
                    lo(r[6], r[7]),
                    hi(r[6], r[7]),
                );
                let s = [
                    _mm256_shuffle_ps::<0x44>(t0, t2),
                    _mm256_shuffle_ps::<0xEE>(t0, t2),
                    _mm256_shuffle_ps::<0x44>(t1, t3),
                    _mm256_shuffle_ps::<0xEE>(t1, t3),
                    _mm256_shuffle_ps::<0x44>(t4, t6),
                    _mm256_shuffle_ps::<0xEE>(t4, t6),
                    _mm256_shuffle_ps::<0x44>(t5, t7),
                    _mm256_shuffle_ps::<0xEE>(t5, t7),
                ];
                for j in 0..4 {
                    let low = _mm256_permute2f128_ps::<0x20>(s[j], s[j + 4]);
                    let high = _mm256_permute2f128_ps::<0x31>(s[j], s[j + 4]);
                    _mm256_storeu_ps(t[j].as_mut_ptr(), low);
                    _mm256_storeu_ps(t[j + 4].as_mut_ptr(), high);
                }
            }
            t
        }
        #[inline(always)]
        fn run<R>(self, f: impl FnOnce(Self) -> R) -> R {
            unsafe { run_avx2(self, f) }
        }
    }

    /// The AVX-512 path: a vector is one 512-bit register. A value of this type exists
    /// only on a CPU with AVX-512F ([`Avx512::new`]).
    #[derive(Debug, Clone, Copy)]
    pub struct Avx512(());

    impl Avx512 {
        /// The token, if this CPU has AVX-512F and POPCNT (every CPU with AVX-512F has it).
        pub fn new() -> Option<Avx512> {
            (is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("popcnt"))
                .then_some(Avx512(()))
        }

        /// `v` plus `shift` in the first `n` lanes (`n <= 16`), zeros in the others.
        #[inline(always)]
        fn first(n: usize) -> __mmask16 {
            ((1u32 << n.min(LANES)) - 1) as __mmask16
        }

        /// Writes one padded row of [`crate::fast::direct::pad_planes`]: `out` (the row,
        /// `out.len()` columns) gets zeros, and `src` (a source row) at columns
        /// `pad..pad + src.len()`; or all zeros with `src = None`. Every vector of the row
        /// is one masked store, its data lanes filled by one masked load (an expanding
        /// load did the same in a tenth of a 32-channel Winograd layer's time).
        ///
        /// # Panics
        /// If the data does not fit in the row.
        #[inline(always)]
        pub fn pad_row(self, src: Option<&[f32]>, pad: usize, out: &mut [f32]) {
            let wp = out.len();
            let w = src.map_or(0, |s| s.len());
            assert!(pad + w <= wp);
            let o = out.as_mut_ptr();
            for c0 in (0..wp).step_by(LANES) {
                // The lanes l with lo <= c0 + l < hi, by shifts: a loop over the lanes here
                // took a third of a small layer's forward pass.
                let lanes_in = |lo: usize, hi: usize| -> __mmask16 {
                    let below = |n: usize| (1u32 << n.saturating_sub(c0).min(LANES)) - 1;
                    (below(hi) & !below(lo)) as __mmask16
                };
                let (exist, data) = (lanes_in(0, wp), lanes_in(pad, pad + w));
                // SAFETY: the token proves AVX-512F. Lane l of the masked load reads
                // `src[c0 + l - pad]` for the lanes `data`, those with
                // `pad <= c0 + l < pad + w`: inside `src`. The vector's address itself
                // may lie before `src` (by up to `pad` floats): it is formed by wrapping
                // arithmetic, and a masked-off lane is neither read nor able to fault. The
                // store writes the lanes `exist`, the columns `c0 + l < wp` of `out`.
                unsafe {
                    let v = match src {
                        Some(s) if data != 0 => {
                            let at = s.as_ptr().wrapping_add(c0).wrapping_sub(pad);
                            _mm512_maskz_loadu_ps(data, at)
                        }
                        _ => _mm512_setzero_ps(),
                    };
                    _mm512_mask_storeu_ps(o.add(c0), exist, v);
                }
            }
        }

        /// `dst[..src.len()] = src + shift`, `dst[src.len()..] = 0`, by masked vector
        /// loads and stores (no call to `memcpy` or `memset` for runs of a few dozen
        /// floats).
        ///
        /// # Panics
        /// If `dst` is shorter than `src`.
        #[inline(always)]
        pub fn copy_row(self, src: &[f32], dst: &mut [f32], shift: f32) {
            assert!(dst.len() >= src.len());
            let (x, o, width) = (src.as_ptr(), dst.as_mut_ptr(), src.len());
            // SAFETY: the token proves AVX-512F. Lanes `c0..c0 + min(n, 16)` with
            // `n = width - c0` are inside `src`, lanes `c0..c0 + min(dst.len() - c0, 16)`
            // inside `dst`; masked-off lanes are neither read nor written.
            unsafe {
                let s = _mm512_set1_ps(shift);
                for c0 in (0..dst.len()).step_by(LANES) {
                    let n = width.saturating_sub(c0);
                    let v = if n == 0 {
                        _mm512_setzero_ps()
                    } else {
                        let v = _mm512_maskz_loadu_ps(Self::first(n), x.add(c0));
                        _mm512_maskz_add_ps(Self::first(n), v, s)
                    };
                    _mm512_mask_storeu_ps(o.add(c0), Self::first(dst.len() - c0), v);
                }
            }
        }

        /// `to[(j, i)] = from[(i, j)] + shift[j]` for a `rows x cols` matrix: 16 entries
        /// of a column gathered by one instruction, stored as 16 neighbours of a row.
        ///
        /// # Panics
        /// If a slice is too short or `16 cols` does not fit in an `i32`.
        #[inline(always)]
        pub fn transpose(
            self,
            from: &[f32],
            (rows, cols): (usize, usize),
            shift: Option<&[f32]>,
            to: &mut [f32],
        ) {
            assert!(from.len() >= rows * cols && to.len() >= rows * cols);
            assert!(shift.is_none_or(|s| s.len() >= cols) && LANES * cols < i32::MAX as usize);
            // SAFETY: the token proves AVX-512F. The gathered entries (i0 + l) cols + j for
            // l < n lie inside `from`, the stored ones j rows + i0 + l inside `to` (both
            // hold rows x cols, checked above); masked-off lanes are neither read nor
            // written; the indices fit in i32 (checked above).
            unsafe {
                let index = _mm512_mullo_epi32(
                    _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                    _mm512_set1_epi32(cols as i32),
                );
                for i0 in (0..rows).step_by(LANES) {
                    let mask = Self::first(rows - i0);
                    for j in 0..cols {
                        let s = _mm512_set1_ps(shift.map_or(0.0, |s| s[j]));
                        let base = from.as_ptr().add(i0 * cols + j);
                        let v =
                            _mm512_mask_i32gather_ps::<4>(_mm512_setzero_ps(), mask, index, base);
                        let out = to.as_mut_ptr().add(j * rows + i0);
                        _mm512_mask_storeu_ps(out, mask, _mm512_add_ps(v, s));
                    }
                }
            }
        }

        /// The Winograd input transform of one row of up to 7 tiles (see
        /// [`crate::fast::winograd`]): `rows` are 4 padded rows from the tiles' first
        /// column, `columns` of them read (`2 n + 2` for `n` tiles); entry `(i, j)` of
        /// `B^T d B` of tile `l` goes to `out[at + (4 i + j) stride + l]`, for the 8 lanes
        /// `l < 8` (lanes past the `n` tiles get unused values).
        ///
        /// # Panics
        /// If a row is shorter than `min(columns, 16)` or the last place lies past
        /// `out.len() - 8`.
        #[inline(always)]
        pub fn winograd_row(
            self,
            rows: [&[f32]; 4],
            columns: usize,
            out: &mut [f32],
            (at, stride): (usize, usize),
        ) {
            let columns = columns.min(LANES);
            assert!(rows.iter().all(|r| r.len() >= columns));
            assert!(at + 15 * stride + 8 <= out.len());
            // SAFETY: the token proves AVX-512F; each load reads `columns` floats of a row
            // (checked above), masked-off lanes are not read; each store writes 8 floats
            // at `at + xi stride` for xi < 16, inside `out` (checked above).
            unsafe {
                let pick = |s: i32| {
                    let at = |l: i32| (2 * l + s).min(15);
                    _mm512_setr_epi32(
                        at(0),
                        at(1),
                        at(2),
                        at(3),
                        at(4),
                        at(5),
                        at(6),
                        at(7),
                        at(8),
                        at(9),
                        at(10),
                        at(11),
                        at(12),
                        at(13),
                        at(14),
                        at(15),
                    )
                };
                let cols = [pick(0), pick(1), pick(2), pick(3)];
                let m = Self::first(columns);
                let [d0, d1, d2, d3] = rows.map(|r| _mm512_maskz_loadu_ps(m, r.as_ptr()));
                let t = [
                    _mm512_sub_ps(d0, d2),
                    _mm512_add_ps(d1, d2),
                    _mm512_sub_ps(d2, d1),
                    _mm512_sub_ps(d1, d3),
                ];
                let o = out.as_mut_ptr();
                for (i, &row) in t.iter().enumerate() {
                    let [e0, e1, e2, e3] = cols.map(|idx| _mm512_permutexvar_ps(idx, row));
                    let u = [
                        _mm512_sub_ps(e0, e2),
                        _mm512_add_ps(e1, e2),
                        _mm512_sub_ps(e2, e1),
                        _mm512_sub_ps(e1, e3),
                    ];
                    for (j, &value) in u.iter().enumerate() {
                        _mm512_mask_storeu_ps(o.add(at + (4 * i + j) * stride), 0xff, value);
                    }
                }
            }
        }
    }

    // POPCNT as for AVX2.
    #[target_feature(enable = "avx512f,popcnt")]
    fn run_avx512<R>(s: Avx512, f: impl FnOnce(Avx512) -> R) -> R {
        f(s)
    }

    // SAFETY (every block in this impl): a token `Avx512` exists only after `Avx512::new`
    // found AVX-512F and POPCNT on this CPU; loads and stores are from and to
    // `[f32; 16]`, or to a slice of exactly the masked length.
    impl Simd for Avx512 {
        type V = __m512;
        const ISA: Isa = Isa::Avx512;

        #[inline(always)]
        fn zero(self) -> Self::V {
            unsafe { _mm512_setzero_ps() }
        }
        #[inline(always)]
        fn splat(self, x: f32) -> Self::V {
            unsafe { _mm512_set1_ps(x) }
        }
        #[inline(always)]
        fn load(self, x: &[f32; LANES]) -> Self::V {
            unsafe { _mm512_loadu_ps(x.as_ptr()) }
        }
        #[inline(always)]
        fn store(self, v: Self::V, to: &mut [f32; LANES]) {
            unsafe { _mm512_storeu_ps(to.as_mut_ptr(), v) }
        }
        #[inline(always)]
        fn add(self, a: Self::V, b: Self::V) -> Self::V {
            unsafe { _mm512_add_ps(a, b) }
        }
        #[inline(always)]
        fn sub(self, a: Self::V, b: Self::V) -> Self::V {
            unsafe { _mm512_sub_ps(a, b) }
        }
        #[inline(always)]
        fn mul_add(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V {
            unsafe { _mm512_fmadd_ps(a, b, c) }
        }
        #[inline(always)]
        unsafe fn load_ptr(self, ptr: *const f32) -> Self::V {
            // The caller guarantees 16 readable floats at `ptr`.
            unsafe { _mm512_loadu_ps(ptr) }
        }
        #[inline(always)]
        fn deinterleave(self, p: &[f32; 2 * LANES]) -> (Self::V, Self::V) {
            // SAFETY: the two loads read floats 0..16 and 16..32 of `p`.
            unsafe {
                let (a, b) = (
                    _mm512_loadu_ps(p.as_ptr()),
                    _mm512_loadu_ps(p.as_ptr().add(LANES)),
                );
                let even =
                    _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
                let odd =
                    _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
                (
                    _mm512_permutex2var_ps(a, even, b),
                    _mm512_permutex2var_ps(a, odd, b),
                )
            }
        }
        #[inline(always)]
        fn sum(self, v: Self::V) -> f32 {
            unsafe { _mm512_reduce_add_ps(v) }
        }
        /// The lanes of `mask` packed to the front between registers (`vcompressps`; its
        /// form that stores to memory measured slower), then one masked store.
        #[inline(always)]
        fn spill(self, v: Self::V, mask: u16, out: &mut [f32]) {
            // The caller's count of the lanes (a spill's `end - start`), checked in tests
            // and debug builds; the store's safety rests on `out.len()` alone.
            debug_assert_eq!(out.len(), mask.count_ones() as usize);
            assert!(out.len() <= LANES);
            let first = ((1u32 << out.len()) - 1) as __mmask16;
            // The store writes the first `out.len()` lanes: inside `out`.
            unsafe {
                let packed = _mm512_maskz_compress_ps(mask, v);
                _mm512_mask_storeu_ps(out.as_mut_ptr(), first, packed);
            }
        }
        #[inline(always)]
        fn run<R>(self, f: impl FnOnce(Self) -> R) -> R {
            unsafe { run_avx512(self, f) }
        }
    }
}

/// Runs `$body` with `$s` bound to the token of `$isa` (an [`Isa`]), compiled for that
/// instruction set. `$isa` must be available ([`Isa::available`]); [`active`] always is.
///
/// # Panics
/// If `$isa` is not available on this CPU.
#[macro_export]
#[doc(hidden)]
macro_rules! with_simd {
    ($isa:expr, $s:ident => $body:expr) => {{
        #[allow(unused_imports)]
        use $crate::fast::simd::Simd as _;
        match $isa {
            #[cfg(target_arch = "x86_64")]
            $crate::fast::simd::Isa::Avx512 => $crate::fast::simd::Avx512::new()
                .expect("AVX-512 asked for on a CPU without it")
                .run(
                    #[inline(always)]
                    move |$s| $body,
                ),
            #[cfg(target_arch = "x86_64")]
            $crate::fast::simd::Isa::Avx2 => $crate::fast::simd::Avx2::new()
                .expect("AVX2 + FMA asked for on a CPU without them")
                .run(
                    #[inline(always)]
                    move |$s| $body,
                ),
            #[allow(unreachable_patterns)]
            _ => $crate::fast::simd::Portable.run(
                #[inline(always)]
                move |$s| $body,
            ),
        }
    }};
}
pub use crate::with_simd;

/// Indices (tap offsets or output positions) with an upper bound on every one of them,
/// found once when the list is made. A kernel checks its furthest load against the bound
/// instead of scanning the list on every tile. A sub-list keeps its parent's bound: still
/// an upper bound, so the check stays sound.
#[derive(Clone, Copy, Debug)]
pub struct Bounded<'a> {
    items: &'a [usize],
    bound: usize,
}

impl<'a> Bounded<'a> {
    /// The list and its largest entry (0 for an empty list).
    pub fn new(items: &'a [usize]) -> Self {
        let bound = items.iter().copied().max().unwrap_or(0);
        Bounded { items, bound }
    }

    /// The entries `range`, with the bound of the whole list.
    pub fn slice(self, range: std::ops::Range<usize>) -> Self {
        Bounded {
            items: &self.items[range],
            bound: self.bound,
        }
    }

    /// The entries.
    pub fn items(self) -> &'a [usize] {
        self.items
    }

    /// An upper bound on every entry.
    pub fn bound(self) -> usize {
        self.bound
    }
}

/// A slice read at `base + offset` for every offset of a [`Bounded`] list, `width` floats
/// from each: checked once, when the strip is made.
#[derive(Clone, Copy)]
pub struct Strip<'a> {
    data: &'a [f32],
    base: usize,
    offsets: Bounded<'a>,
}

impl<'a> Strip<'a> {
    /// The strip of `data` at `base` plus `offsets`, `width` floats at each.
    ///
    /// # Panics
    /// If a read would leave `data`.
    #[inline(always)]
    pub fn new(data: &'a [f32], base: usize, offsets: Bounded<'a>, width: usize) -> Self {
        let end = base
            .checked_add(offsets.bound)
            .and_then(|e| e.checked_add(width.max(1)));
        assert!(
            end.is_some_and(|e| e <= data.len()),
            "a load of {width} floats at {base} + {} leaves a slice of {}",
            offsets.bound,
            data.len()
        );
        Strip {
            data,
            base,
            offsets,
        }
    }

    /// The strip of the offsets `range` only: still checked, as a sub-list keeps the
    /// bound of its parent ([`Bounded::slice`]).
    ///
    /// # Panics
    /// If `range` is not within the offsets.
    #[inline(always)]
    pub fn slice(self, range: std::ops::Range<usize>) -> Self {
        Strip {
            offsets: self.offsets.slice(range),
            ..self
        }
    }

    /// For each offset in order, `R` neighbouring vectors from `base + offset` (the strip
    /// must have been made with `width >= 16 R`).
    ///
    /// # Panics
    /// If `16 R` is wider than the strip was checked for (see [`Strip::new`]).
    #[inline(always)]
    pub fn vectors<S: Simd, const R: usize>(
        self,
        s: S,
        width: usize,
    ) -> impl Iterator<Item = [S::V; R]> + 'a {
        assert!(R * LANES <= width);
        let Strip {
            data,
            base,
            offsets,
        } = self;
        let p = data.as_ptr();
        offsets.items.iter().map(move |&off| {
            let mut v = [s.zero(); R];
            for (r, v) in v.iter_mut().enumerate() {
                // SAFETY: base + off + 16 R <= base + bound + width <= data.len() (checked
                // in `new`, width >= 16 R above); `data` is borrowed for 'a.
                *v = unsafe { s.load_ptr(p.add(base + off + r * LANES)) };
            }
            v
        })
    }

    /// For each offset in order, the `P` floats at `base + offset + at[p]` (the strip must
    /// have been made with `width > max(at)`), as a [`Points`] that reads point `p` when
    /// asked: a tile loads each input just before its multiply-adds (with all of a tap's
    /// inputs loaded first, a tile of 4 vectors by 6 positions needed more registers than
    /// there are).
    ///
    /// # Panics
    /// If a place of `at` is not below `width`.
    pub fn points<const P: usize>(
        self,
        at: &[usize; P],
        width: usize,
    ) -> impl Iterator<Item = Points<'a, P>> + 'a {
        assert!(at.iter().all(|&a| a < width));
        let at = *at;
        let Strip {
            data,
            base,
            offsets,
        } = self;
        let p = data.as_ptr();
        offsets.items.iter().map(move |&off| Points {
            // SAFETY: base + off <= base + bound < data.len() (checked in `new`): in bounds.
            row: unsafe { p.add(base + off) },
            at,
            data: PhantomData,
        })
    }
}

/// The points of one tap of a [`Strip`] ([`Strip::points`]): `get(p)` reads
/// `data[base + offset + at[p]]`, when asked.
#[derive(Clone, Copy)]
pub struct Points<'a, const P: usize> {
    // The tap's first float, `data[base + offset]`: one address per tap, from which each
    // point is one scaled index away (adding the index to an offset first cost an
    // instruction per point in the wide tiles' inner loop).
    row: *const f32,
    at: [usize; P],
    data: PhantomData<&'a [f32]>,
}

impl<const P: usize> Points<'_, P> {
    /// Point `p` of this tap.
    ///
    /// # Panics
    /// If `p >= P`.
    #[inline(always)]
    pub fn get(&self, p: usize) -> f32 {
        let a = self.at[p];
        // SAFETY: row + a = data + base + off + a, and base + off + a < base + bound + width
        // <= data.len(), checked in `Strip::new` and in `points` (every `a < width`); the
        // data is borrowed for the lifetime of the `Points`.
        unsafe { *self.row.add(a) }
    }
}

/// `N` slices read in step, one vector of each at a time: vector `j` of slice `i` is
/// `slices[i][16 j..16 j + 16]`, for `j < vectors`. Checked once, when made.
pub struct Lockstep<'a, const N: usize> {
    slices: [&'a [f32]; N],
    vectors: usize,
}

impl<'a, const N: usize> Lockstep<'a, N> {
    /// # Panics
    /// If a slice holds fewer than `16 vectors` floats.
    #[inline(always)]
    pub fn new(slices: [&'a [f32]; N], vectors: usize) -> Self {
        let len = vectors.checked_mul(LANES).expect("vectors overflow");
        assert!(
            slices.iter().all(|s| s.len() >= len),
            "a slice is shorter than {vectors} vectors"
        );
        Lockstep { slices, vectors }
    }

    /// Vector `j` of every slice.
    ///
    /// # Panics
    /// If `j` is not below the number of vectors.
    #[inline(always)]
    pub fn load<S: Simd>(&self, s: S, j: usize) -> [S::V; N] {
        assert!(j < self.vectors);
        let mut v = [s.zero(); N];
        for (v, slice) in v.iter_mut().zip(&self.slices) {
            // SAFETY: 16 j + 16 <= 16 vectors <= every slice's length (checked in `new`).
            *v = unsafe { s.load_ptr(slice.as_ptr().add(j * LANES)) };
        }
        v
    }

    /// Vector `j` of slice `i`.
    ///
    /// # Panics
    /// If `i` or `j` is out of range.
    #[inline(always)]
    pub fn load_one<S: Simd>(&self, s: S, i: usize, j: usize) -> S::V {
        assert!(j < self.vectors);
        // SAFETY: 16 j + 16 <= 16 vectors <= the slice's length (checked in `new`).
        unsafe { s.load_ptr(self.slices[i].as_ptr().add(j * LANES)) }
    }
}

/// New vectors computed entry by entry from `inputs` (each of one length), plane by plane
/// in parallel, without zeroing them first: `per_plane(p)` gives the function of plane
/// `p` (the entries `p * plane ..`, the last plane perhaps shorter), and entry `i` of
/// output `k` is that function's `[f32; K]` for the entries `i` of the inputs. So the
/// per-plane work (which channel, its constants) is done once per plane.
///
/// A zeroed vector that the kernel then overwrites costs a pass over memory: for batch
/// normalization on 32 channels of 28 x 28, batch 64 (6.4 MB per tensor), forward and
/// backward take a quarter less time without it (one thread, 3.9 -> 2.9 ms, the same bits).
///
/// Why not rayon's `collect`, which writes a new vector once without `unsafe` code (as
/// [`crate::fast::elementwise`] does): it hands out one entry at a time, so every entry
/// would look up its plane's constants (a division by the plane's length), and two
/// outputs need an `unzip`. For batch normalization's forward pass on the tensor above
/// that took 6.0 ms against 0.8 ms here (one thread); collecting plane by plane
/// (`flat_map_iter`, which is not indexed, so rayon gathers pieces and copies them) 20 ms.
pub fn map_planes<const I: usize, const K: usize, F>(
    inputs: [&[f32]; I],
    plane: usize,
    per_plane: impl Fn(usize) -> F + Sync,
) -> [Vec<f32>; K]
where
    F: Fn([f32; I]) -> [f32; K],
{
    use rayon::prelude::*;
    use std::mem::MaybeUninit;
    assert!(I > 0 && K > 0, "map_planes: needs an input and an output");
    assert!(plane > 0, "map_planes: planes of no values");
    let len = inputs[0].len();
    assert!(
        inputs.iter().all(|x| x.len() == len),
        "map_planes: inputs of different lengths {:?}",
        inputs.map(|x| x.len())
    );
    let mut outputs: [Vec<f32>; K] = std::array::from_fn(|_| Vec::with_capacity(len));
    {
        let mut chunks: Vec<_> = outputs
            .iter_mut()
            .map(|v| v.spare_capacity_mut()[..len].chunks_mut(plane))
            .collect();
        let planes: Vec<[&mut [MaybeUninit<f32>]; K]> = (0..len.div_ceil(plane))
            .map(|_| std::array::from_fn(|k| chunks[k].next().expect("a chunk per plane")))
            .collect();
        planes.into_par_iter().enumerate().for_each(|(p, out)| {
            let n = out[0].len();
            let out = out.map(|o| &mut o[..n]);
            let ins: [&[f32]; I] = std::array::from_fn(|j| &inputs[j][p * plane..][..n]);
            let f = per_plane(p);
            for i in 0..n {
                let v = f(std::array::from_fn(|j| ins[j][i]));
                for k in 0..K {
                    out[k][i].write(v[k]);
                }
            }
        });
    }
    for v in &mut outputs {
        // SAFETY: the capacity is `len` (`with_capacity`), and the loop above wrote every
        // index `0..n` of every plane's chunk of every output, the chunks of `plane` tiling
        // `0..len`; a panic in it stops here, before any length is set.
        unsafe { v.set_len(len) };
    }
    outputs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values with many bits set, signs and magnitudes mixed, so that a different order or
    /// an extra rounding shows.
    fn values(seed: u32) -> [f32; LANES] {
        std::array::from_fn(|l| {
            let k = (seed.wrapping_mul(2_654_435_761) ^ (l as u32 * 40_503)) % 10_007;
            (k as f32 / 97.0 - 51.3) * (1.0 + l as f32 / 3.0)
        })
    }

    /// Every operation of token `s` equals the portable one, bit for bit.
    fn agrees_with_portable<S: Simd>(s: S) {
        let p = Portable;
        s.run(|s| {
            for seed in 0..200 {
                let (a, b, c) = (values(seed), values(seed + 1000), values(seed + 2000));
                let v = |x: &[f32; LANES]| s.load(x);
                let same = |x: S::V, y: [f32; LANES], what: &str| {
                    let x = s.to_array(x);
                    assert!(
                        x.iter().zip(&y).all(|(x, y)| x.to_bits() == y.to_bits()),
                        "{} {what}: {x:?} vs {y:?}",
                        S::ISA.name()
                    );
                };
                same(v(&a), a, "load/store");
                same(s.zero(), p.zero(), "zero");
                same(s.splat(a[3]), p.splat(a[3]), "splat");
                same(s.add(v(&a), v(&b)), p.add(a, b), "add");
                same(s.sub(v(&a), v(&b)), p.sub(a, b), "sub");
                same(
                    s.mul_add(v(&a), v(&b), v(&c)),
                    p.mul_add(a, b, c),
                    "mul_add",
                );
                assert_eq!(s.sum(v(&a)).to_bits(), p.sum(a).to_bits(), "sum");
                let mask = (seed * 7919) as u16;
                let n = mask.count_ones() as usize;
                let (mut x, mut y) = (vec![0.0; n], vec![0.0; n]);
                s.spill(v(&a), mask, &mut x);
                p.spill(a, mask, &mut y);
                assert_eq!(x, y, "spill of mask {mask:#x}");
            }
            // Even and odd entries of 32 distinct numbers.
            let pairs: [f32; 2 * LANES] = std::array::from_fn(|i| i as f32 * 1.5 - 7.0);
            let (e, o) = s.deinterleave(&pairs);
            let (pe, po) = p.deinterleave(&pairs);
            let bits = |v: [f32; LANES]| v.map(f32::to_bits);
            assert_eq!(
                bits(s.to_array(e)),
                bits(pe),
                "{} deinterleave (even)",
                S::ISA.name()
            );
            assert_eq!(
                bits(s.to_array(o)),
                bits(po),
                "{} deinterleave (odd)",
                S::ISA.name()
            );
            assert_eq!(
                (pe[3], po[3]),
                (pairs[6], pairs[7]),
                "portable deinterleave"
            );
            // Every entry of a block of distinct numbers to its transposed place.
            let block: [[f32; 8]; 8] =
                std::array::from_fn(|i| std::array::from_fn(|j| (8 * i + j) as f32));
            let t = s.transpose8(&block);
            for i in 0..8 {
                for j in 0..8 {
                    assert_eq!(
                        t[j][i],
                        block[i][j],
                        "{} transpose8 ({i}, {j})",
                        S::ISA.name()
                    );
                }
            }
        });
    }

    #[test]
    fn the_portable_operations_do_what_they_say() {
        let p = Portable;
        let (a, b, c) = (values(1), values(2), values(3));
        for l in 0..LANES {
            // One rounding: the fused product differs from the two-step one somewhere.
            assert_eq!(p.mul_add(a, b, c)[l], a[l].mul_add(b[l], c[l]));
            assert_eq!(p.add(a, b)[l], a[l] + b[l]);
        }
        // The tree: small integers add exactly in every order...
        let ints: [f32; LANES] = std::array::from_fn(|l| l as f32 - 5.0);
        assert_eq!(p.sum(ints), (0..16).map(|l| l as f32 - 5.0).sum::<f32>());
        // ...and 1 + 2^-24 sixteen times shows the order: pairs (l, l + 8) first.
        // ...but 1 and two halves of the float spacing just above 1 (2^-24 each) do not:
        // the two halves first (2^-23, then 1 + 2^-23 is a float) or each alone with 1
        // (1 + 2^-24 rounds back to 1, twice). Lanes 1 and 9 meet in the first step:
        let half = f32::EPSILON / 2.0;
        let mut x = [0.0f32; LANES];
        (x[0], x[1], x[9]) = (1.0, half, half);
        assert_eq!(p.sum(x), 1.0 + f32::EPSILON);
        // Lanes 1 and 2 meet only after lane 2 has met lane 0 (the 1): rounded away.
        let mut x = [0.0f32; LANES];
        (x[0], x[1], x[2]) = (1.0, half, half);
        assert_eq!(p.sum(x), 1.0);
        let p: Portable = Portable;
        let mut out = [0.0f32; 3];
        p.spill(ints, 0b1000_0000_0010_0001, &mut out);
        assert_eq!(out, [-5.0, 0.0, 10.0]);
    }

    // A path this CPU cannot run is reported as ignored, with the reason (the build script
    // marks the machine's instruction sets), never passed without running.

    #[test]
    #[cfg_attr(
        not(cpu_avx2),
        ignore = "this CPU has no AVX2 + FMA: the AVX2 path cannot run here"
    )]
    fn avx2_operations_give_the_bits_of_the_portable_ones() {
        #[cfg(target_arch = "x86_64")]
        agrees_with_portable(Avx2::new().expect("built on a CPU with AVX2 + FMA: rebuild here"));
    }

    #[test]
    #[cfg_attr(
        not(cpu_avx512),
        ignore = "this CPU has no AVX-512F: the AVX-512 path cannot run here"
    )]
    fn avx512_operations_give_the_bits_of_the_portable_ones() {
        #[cfg(target_arch = "x86_64")]
        agrees_with_portable(Avx512::new().expect("built on a CPU with AVX-512F: rebuild here"));
    }

    #[test]
    fn names_parse_and_limits_narrow() {
        for isa in Isa::ALL {
            assert_eq!(Isa::parse(isa.name()), Some(isa));
        }
        assert_eq!(Isa::parse(" AVX2 "), Some(Isa::Avx2));
        assert_eq!(Isa::parse("sse"), None);
        assert!(Isa::Portable.available());
        assert!(detected().available());
    }

    #[test]
    fn strips_and_locksteps_check_their_reach() {
        let data: Vec<f32> = (0..100).map(|i| i as f32).collect();
        let offsets = [0, 10, 40];
        let b = Bounded::new(&offsets);
        assert_eq!((b.bound(), b.slice(0..1).bound()), (40, 40));
        // 40 + 2 + 32 = 74 <= 100: fine; the vectors are the slices at those places.
        let strip = Strip::new(&data, 2, b, 32);
        let got: Vec<[[f32; 16]; 2]> = strip.vectors::<_, 2>(Portable, 32).collect();
        for (vectors, &off) in got.iter().zip(&offsets) {
            for (r, v) in vectors.iter().enumerate() {
                assert_eq!(v[0], (2 + off + 16 * r) as f32);
                assert_eq!(v[15], (2 + off + 16 * r + 15) as f32);
            }
        }
        let points: Vec<[f32; 2]> = strip
            .points(&[0, 31], 32)
            .map(|p| [p.get(0), p.get(1)])
            .collect();
        assert_eq!(points[2], [42.0, 73.0]);
        // One float too far: refused.
        let far = std::panic::catch_unwind(|| Strip::new(&data, 2, b, 59));
        assert!(far.is_err());
        assert!(std::panic::catch_unwind(|| Strip::new(&data, usize::MAX, b, 1)).is_err());
        let lock = Lockstep::new([&data[..32], &data[50..]], 2);
        let [x, y] = lock.load(Portable, 1);
        assert_eq!((x[0], y[15]), (16.0, 81.0));
        assert!(std::panic::catch_unwind(|| lock.load(Portable, 2)).is_err());
        assert!(std::panic::catch_unwind(|| Lockstep::new([&data[..31]], 2)).is_err());
    }

    /// Every entry of every output is the plane's function of the inputs' entries, for
    /// lengths that are a whole number of planes, one that is not, and a single short
    /// plane; a plane that panics, inputs of different lengths and planes of no values
    /// make the call panic, so no vector is handed out.
    #[test]
    fn map_planes_writes_every_entry_of_every_output() {
        for (len, plane) in [(64 * 12, 12), (100, 7), (5, 16), (0, 3)] {
            let a: Vec<f32> = (0..len).map(|i| (i * 37 % 101) as f32 - 50.0).collect();
            let b: Vec<f32> = (0..len).map(|i| (i % 13) as f32 * 0.25).collect();
            let [sum, scaled, last] = map_planes([&a, &b], plane, |p| {
                let w = p as f32;
                move |[x, y]: [f32; 2]| [x + y, w * x, y]
            });
            for i in 0..len {
                let p = i / plane;
                assert_eq!(sum[i], a[i] + b[i], "{len} / {plane}, entry {i}");
                assert_eq!(scaled[i], p as f32 * a[i], "{len} / {plane}, entry {i}");
                assert_eq!(last[i], b[i], "{len} / {plane}, entry {i}");
            }
            assert_eq!((sum.len(), scaled.len(), last.len()), (len, len, len));
        }
        let a = vec![1.0f32; 40];
        let failed = std::panic::catch_unwind(|| {
            map_planes([&a], 8, |p| {
                assert!(p != 3, "plane 3 fails");
                |[x]: [f32; 1]| [x]
            })
        });
        assert!(failed.is_err());
        assert!(
            std::panic::catch_unwind(|| map_planes([&a, &a[1..]], 8, |_| |[x, _]: [f32; 2]| [x]))
                .is_err()
        );
        assert!(std::panic::catch_unwind(|| map_planes([&a], 0, |_| |[x]: [f32; 1]| [x])).is_err());
    }
}
