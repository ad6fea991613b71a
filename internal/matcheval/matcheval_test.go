package matcheval_test

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/fixtures"
	"github.com/medmatch/medmatch/internal/matcheval"
	"github.com/medmatch/medmatch/matcher"
)

func r(id string) medmatch.Ref { return medmatch.Ref{Kind: medmatch.KindAchievement, ID: id} }

func TestScore(t *testing.T) {
	q := medmatch.Ref{Kind: medmatch.KindDemand, ID: "d1"}
	l := func(c string, g int) matcher.Label { return matcher.Label{Query: q, Candidate: r(c), Grade: g} }
	labels := []matcher.Label{l("a", 3), l("b", 0), l("c", 2), l("z", 1)}
	// Ranking b, a, c; z missing.
	m := matcheval.Score("x", map[medmatch.Ref][]medmatch.Ref{q: {r("b"), r("a"), r("c")}}, labels)
	dcg := 7/math.Log2(3) + 3/math.Log2(4)
	idcg := 7 + 3/math.Log2(3) + 1/math.Log2(4)
	if math.Abs(m.NDCG10-dcg/idcg) > 1e-12 || m.MRR10 != 0.5 || m.P5 != 0.4 || m.Queries != 1 {
		t.Fatalf("metrics %+v; want ndcg %.4f mrr 0.5 p@5 0.4", m, dcg/idcg)
	}
	// Pairs with different grades: a>b a>c a>z c>b c>z z>b = 6; wrong: a>b (b first),
	// c>b (b first), z>b (z missing, b ranked) = 3.
	if math.Abs(m.Misorder-0.5) > 1e-12 {
		t.Fatalf("misorder %v; want 0.5", m.Misorder)
	}
	// A query without a relevant candidate is not counted.
	q2 := medmatch.Ref{Kind: medmatch.KindDemand, ID: "d2"}
	m = matcheval.Score("x", nil, append(labels[:0:0], matcher.Label{Query: q2, Candidate: r("a"), Grade: 1}))
	if m.Queries != 0 {
		t.Fatalf("counted a query without relevant candidates")
	}
}

func TestReadLabelsNamesTheLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"query":"q","candidate":"c","grade":4}`, "line 1: grade"},
		{"\n" + `{"query":"q","grade":1}`, "line 2: candidate"},
		{`{"query":"q","candidate":"c","grade":1,"split":"dev"}`, "line 1: split"},
		{`{"query":"q","candidate":"c","grade":1,"extra":1}`, "line 1"},
		{`not json`, "line 1"},
	} {
		_, err := matcheval.ReadLabels(strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadLabels(%q) = %v; want an error with %q", c.in, err, c.want)
		}
	}
}

// The regression test of the matcher's quality: on the demo catalogue's
// test queries, weights learned on its training queries must beat text
// relevance alone, and the fixture judgments must keep their shape.
func TestLearnedBeatsBM25(t *testing.T) {
	if testing.Short() {
		t.Skip("fits and evaluates four models")
	}
	ctx := context.Background()
	data, err := fixtures.MatchLabels()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := matcheval.ReadLabels(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := fixtures.Records()
	if err != nil {
		t.Fatal(err)
	}
	env, err := matcheval.Open(ctx, recs, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	split, err := env.Resolve(raw)
	if err != nil {
		t.Fatal(err)
	}
	queries := func(ls []matcher.Label) (n, needs int) {
		seen := map[medmatch.Ref]bool{}
		for _, l := range ls {
			if !seen[l.Query] {
				seen[l.Query] = true
				n++
				if l.Query.Kind == medmatch.KindNeed {
					needs++
				}
			}
		}
		return
	}
	ntest, _ := queries(split.Test)
	nall, needs := queries(append(split.Train, split.Test...))
	if ntest < 40 || nall-needs < 80 || needs < 30 {
		t.Fatalf("judgments cover %d test queries, %d demands, %d needs; want ≥ 40, ≥ 80, ≥ 30", ntest, nall-needs, needs)
	}
	exs, err := env.Matcher.Examples(ctx, medmatch.System, split.Train, matcheval.Target(split.Train))
	if err != nil {
		t.Fatal(err)
	}
	w, err := matcher.FitWeights(ctx, exs, matcher.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Matcher.SaveWeights(ctx, medmatch.System, w); err != nil {
		t.Fatal(err)
	}
	got := map[string]matcheval.Metrics{}
	for _, m := range []string{matcher.ModelBM25, matcher.ModelLearned} {
		if got[m], err = env.Evaluate(ctx, split.Test, m); err != nil {
			t.Fatal(err)
		}
		t.Log(got[m].Line())
	}
	if got["learned"].NDCG10 < got["bm25"].NDCG10 {
		t.Fatalf("learned nDCG@10 %.3f below bm25 %.3f", got["learned"].NDCG10, got["bm25"].NDCG10)
	}
	if got["learned"].Misorder > got["bm25"].Misorder {
		t.Fatalf("learned misorders %.3f of pairs, bm25 %.3f", got["learned"].Misorder, got["bm25"].Misorder)
	}
}
