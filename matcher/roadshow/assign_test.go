package roadshow

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bestMatching enumerates every matching of at most limit pairs.
func bestMatching(w [][]float64, limit int) float64 {
	rows, cols := len(w), len(w[0])
	used := make([]bool, cols)
	var rec func(i, k int) float64
	rec = func(i, k int) float64 {
		if i == rows || k == limit {
			return 0
		}
		best := rec(i+1, k) // row i unmatched
		for j := range cols {
			if !used[j] && w[i][j] > 0 && !math.IsNaN(w[i][j]) {
				used[j] = true
				best = math.Max(best, w[i][j]+rec(i+1, k+1))
				used[j] = false
			}
		}
		return best
	}
	return rec(0, 0)
}

func TestMaxWeightMatchingAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 600 {
		rows, cols := 1+rng.IntN(6), 1+rng.IntN(6)
		w := make([][]float64, rows)
		for i := range w {
			w[i] = make([]float64, cols)
			for j := range w[i] {
				switch r := rng.Float64(); {
				case r < 0.2:
					w[i][j] = math.NaN() // forbidden
				case r < 0.3:
					w[i][j] = 0
				default:
					w[i][j] = float64(rng.IntN(20)) + rng.Float64()
				}
			}
		}
		limit := rng.IntN(7) - 1 // -1: no limit
		got := MaxWeightMatching(w, limit)
		bl := limit
		if bl < 0 {
			bl = 99
		}
		want := bestMatching(w, bl)
		var total float64
		rowUsed, colUsed := map[int]bool{}, map[int]bool{}
		for _, p := range got {
			if rowUsed[p.Row] || colUsed[p.Col] {
				t.Fatalf("trial %d: row or column used twice in %v", trial, got)
			}
			rowUsed[p.Row], colUsed[p.Col] = true, true
			x := w[p.Row][p.Col]
			if !(x > 0) {
				t.Fatalf("trial %d: took forbidden pair %v (weight %v)", trial, p, x)
			}
			total += x
		}
		if limit >= 0 && len(got) > limit {
			t.Fatalf("trial %d: %d pairs above limit %d", trial, len(got), limit)
		}
		if math.Abs(total-want) > 1e-9 {
			t.Fatalf("trial %d (%dx%d, limit %d): total %v; brute force %v\nw=%v", trial, rows, cols, limit, total, want, w)
		}
	}
}
