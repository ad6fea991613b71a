// Package roadshow plans 转化项目推介会: it selects the projects to present
// to the invited enterprises (lazy greedy over a coverage objective with
// diversity caps) and schedules the one-on-one meetings into slots and
// tables, with an exact assignment solver at its core.
package roadshow

import "math"

// Pair is one chosen (row, column) pair of an assignment.
type Pair struct{ Row, Col int }

// MaxWeightMatching returns a set of (row, column) pairs, each row and
// each column in at most one pair and at most limit pairs in all (limit <
// 0: no limit), that maximises the total weight. w[i][j] is the weight of
// pairing row i with column j; a NaN or non-positive weight forbids the
// pair (an assignment never takes a pair that adds nothing).
//
// It is min-cost flow by successive shortest paths (Bellman–Ford on the
// residual graph, which has negative costs): source → rows → columns →
// sink, every arc of capacity 1, a pair costing −w. Each augmentation adds
// one pair along a cheapest path, so after k augmentations the flow is a
// maximum-weight matching of k pairs; it stops at limit, or when no path
// has negative cost (another pair would lower the total).
func MaxWeightMatching(w [][]float64, limit int) []Pair {
	rows := len(w)
	if rows == 0 {
		return nil
	}
	cols := len(w[0])
	// Nodes: 0 source, 1..rows, rows+1..rows+cols, sink.
	n := rows + cols + 2
	src, sink := 0, n-1
	type arc struct {
		to, rev, cap int
		cost         float64
	}
	g := make([][]arc, n)
	add := func(u, v int, cost float64) {
		g[u] = append(g[u], arc{v, len(g[v]), 1, cost})
		g[v] = append(g[v], arc{u, len(g[u]) - 1, 0, -cost})
	}
	for i := range rows {
		add(src, 1+i, 0)
		for j := range cols {
			if x := w[i][j]; x > 0 && !math.IsNaN(x) && !math.IsInf(x, 0) {
				add(1+i, 1+rows+j, -x)
			}
		}
	}
	for j := range cols {
		add(1+rows+j, sink, 0)
	}
	if limit < 0 {
		limit = min(rows, cols)
	}
	dist := make([]float64, n)
	prevNode := make([]int, n)
	prevArc := make([]int, n)
	const eps = 1e-12
	for flow := 0; flow < limit; flow++ {
		for i := range dist {
			dist[i] = math.Inf(1)
			prevNode[i] = -1
		}
		dist[src] = 0
		// Bellman–Ford; the residual graph has no negative cycle because
		// every flow so far is of minimum cost for its size.
		for range n {
			changed := false
			for u := range n {
				if math.IsInf(dist[u], 1) {
					continue
				}
				for k, a := range g[u] {
					if a.cap > 0 && dist[u]+a.cost < dist[a.to]-eps {
						dist[a.to] = dist[u] + a.cost
						prevNode[a.to], prevArc[a.to] = u, k
						changed = true
					}
				}
			}
			if !changed {
				break
			}
		}
		if math.IsInf(dist[sink], 1) || dist[sink] >= -eps {
			break
		}
		for v := sink; v != src; v = prevNode[v] {
			u := prevNode[v]
			a := &g[u][prevArc[v]]
			a.cap--
			g[v][a.rev].cap++
		}
	}
	var out []Pair
	for i := range rows {
		for _, a := range g[1+i] {
			if a.to > rows && a.to <= rows+cols && a.cap == 0 {
				out = append(out, Pair{i, a.to - 1 - rows})
			}
		}
	}
	return out
}
