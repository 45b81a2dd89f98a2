//! Small dense matrices over `Fr` for the Poseidon MDS layer and its sparse factorisation.

use bls12_381::Scalar;
use ff::Field;

/// A row-major square matrix.
pub type Matrix = Vec<Vec<Scalar>>;

/// neptune's MDS matrix: the Cauchy matrix `m[i][j] = 1 / (x_i + y_j)`, `x_i = i`, `y_j = t + j`.
/// It is symmetric, so row- and column-vector conventions agree.
pub fn cauchy_mds(t: usize) -> Matrix {
    (0..t)
        .map(|i| {
            (0..t)
                .map(|j| Scalar::from((i + t + j) as u64).invert().unwrap())
                .collect()
        })
        .collect()
}

/// `a · b`.
pub fn mul(a: &Matrix, b: &Matrix) -> Matrix {
    let n = a.len();
    (0..n)
        .map(|i| {
            (0..n)
                .map(|j| (0..n).fold(Scalar::ZERO, |acc, k| acc + a[i][k] * b[k][j]))
                .collect()
        })
        .collect()
}

/// `m · v` (column vector).
pub fn apply(m: &Matrix, v: &[Scalar]) -> Vec<Scalar> {
    m.iter()
        .map(|row| {
            row.iter()
                .zip(v)
                .fold(Scalar::ZERO, |acc, (a, b)| acc + a * b)
        })
        .collect()
}

/// The inverse by Gauss–Jordan elimination; `None` if singular.
pub fn invert(m: &Matrix) -> Option<Matrix> {
    let n = m.len();
    let mut a: Matrix = m.clone();
    let mut inv: Matrix = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| if i == j { Scalar::ONE } else { Scalar::ZERO })
                .collect()
        })
        .collect();
    for col in 0..n {
        let pivot = (col..n).find(|&r| !bool::from(a[r][col].is_zero()))?;
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let p_inv = a[col][col].invert().unwrap();
        for j in 0..n {
            a[col][j] *= p_inv;
            inv[col][j] *= p_inv;
        }
        for r in 0..n {
            if r != col && !bool::from(a[r][col].is_zero()) {
                let f = a[r][col];
                for j in 0..n {
                    let (ac, ic) = (a[col][j], inv[col][j]);
                    a[r][j] -= f * ac;
                    inv[r][j] -= f * ic;
                }
            }
        }
    }
    Some(inv)
}

/// A matrix of the form `[[m00, w], [v, I]]`: dense first row and column, identity elsewhere.
/// Applying it costs `2t − 1` multiplications instead of `t²`.
#[derive(Clone, Debug)]
pub struct Sparse {
    /// `m00`.
    pub m00: Scalar,
    /// First row without `m00` (length t−1).
    pub row: Vec<Scalar>,
    /// First column without `m00` (length t−1).
    pub col: Vec<Scalar>,
}

impl Sparse {
    /// `self · state`, in place.
    #[inline]
    pub fn apply(&self, state: &mut [Scalar]) {
        let x0 = state[0];
        let mut y0 = self.m00 * x0;
        for (r, s) in self.row.iter().zip(&state[1..]) {
            y0 += r * s;
        }
        for (c, s) in self.col.iter().zip(&mut state[1..]) {
            *s += c * x0;
        }
        state[0] = y0;
    }
}

/// Factors a dense `d` into `Sparse · B` with `B = diag(1, d̂)` (d̂ = `d` without row and column 0).
/// Returns the sparse factor and `B`. `B` does not touch element 0 and does not mix it into the
/// others, so it commutes with a partial round's S-box and scalar constant on element 0.
pub fn factor_sparse(d: &Matrix) -> Option<(Sparse, Matrix)> {
    let t = d.len();
    let d_hat: Matrix = d[1..].iter().map(|row| row[1..].to_vec()).collect();
    let d_hat_inv = invert(&d_hat)?;
    let row_tail = &d[0][1..];
    // w^T = row_tail^T · d̂^{-1}
    let row: Vec<Scalar> = (0..t - 1)
        .map(|j| (0..t - 1).fold(Scalar::ZERO, |acc, k| acc + row_tail[k] * d_hat_inv[k][j]))
        .collect();
    let col: Vec<Scalar> = (1..t).map(|i| d[i][0]).collect();
    let mut b: Matrix = vec![vec![Scalar::ZERO; t]; t];
    b[0][0] = Scalar::ONE;
    for i in 1..t {
        b[i][1..].copy_from_slice(&d[i][1..]);
    }
    Some((
        Sparse {
            m00: d[0][0],
            row,
            col,
        },
        b,
    ))
}
