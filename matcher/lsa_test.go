package matcher

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// topics builds documents from a few topics: each document draws most of
// its words from one topic's vocabulary and a few from a shared pool.
func topics(n, perTopic, topicsN int, seed uint64) ([][]string, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	docs := make([][]string, n)
	label := make([]int, n)
	for i := range docs {
		t := rng.IntN(topicsN)
		label[i] = t
		for range 30 {
			if rng.Float64() < 0.8 {
				docs[i] = append(docs[i], fmt.Sprintf("t%d-w%d", t, rng.IntN(perTopic)))
			} else {
				docs[i] = append(docs[i], fmt.Sprintf("shared-%d", rng.IntN(200)))
			}
		}
	}
	return docs, label
}

func TestRandomizedSVDMatchesDenseSVD(t *testing.T) {
	docs, _ := topics(400, 40, 8, 1)
	m, err := Fit(context.Background(), docs, FitOptions{K: 8, MaxDF: 1, PowerIters: 3, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	// The same weighted matrix, dense, through gonum's SVD.
	a := mat.NewDense(len(docs), len(m.Terms), nil)
	for i, d := range docs {
		ids, counts := m.count(d, nil, nil)
		w := make([]float32, len(ids))
		tfidf(ids, counts, m.IDF, w)
		for j, id := range ids {
			a.Set(i, int(id), float64(w[j]))
		}
	}
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThin) {
		t.Fatal("dense SVD failed")
	}
	want := svd.Values(nil)
	for j := range m.K {
		if rel := math.Abs(float64(m.Sigma[j])-want[j]) / want[j]; rel > 0.02 {
			t.Errorf("sigma[%d] = %.4f; dense SVD %.4f (rel err %.3f)", j, m.Sigma[j], want[j], rel)
		}
	}
	// Term loadings are orthonormal.
	for x := range m.K {
		for y := range m.K {
			var dot float64
			for tm := range m.Terms {
				dot += float64(m.V[tm*m.K+x]) * float64(m.V[tm*m.K+y])
			}
			want := 0.0
			if x == y {
				want = 1
			}
			if math.Abs(dot-want) > 1e-3 {
				t.Fatalf("V column %d·%d = %.4f; want %v", x, y, dot, want)
			}
		}
	}
}

func TestEmbedGroupsTopics(t *testing.T) {
	docs, label := topics(600, 50, 6, 2)
	m, err := Fit(context.Background(), docs[:500], FitOptions{K: 12, MaxDF: 1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	// Folded-in documents (not fitted) are closer to their own topic.
	var same, other float64
	var ns, no int
	for i := 500; i < 600; i++ {
		for j := 500; j < i; j++ {
			c := Cosine(m.Embed(docs[i]), m.Embed(docs[j]))
			if label[i] == label[j] {
				same += c
				ns++
			} else {
				other += c
				no++
			}
		}
	}
	same, other = same/float64(ns), other/float64(no)
	if same < 0.6 || other > 0.3 {
		t.Fatalf("mean cosine same topic %.3f, other topics %.3f; want ≥ 0.6 and ≤ 0.3", same, other)
	}
	if m.Embed([]string{"never-seen"}) != nil {
		t.Fatal("Embed of unknown terms should be nil")
	}
}

func TestModelRoundTrip(t *testing.T) {
	docs, _ := topics(200, 30, 4, 3)
	m, err := Fit(context.Background(), docs, FitOptions{K: 6, MaxDF: 1})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := m.MarshalBinary()
	var back Model
	if err := back.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if back.Fingerprint() != m.Fingerprint() || Cosine(back.Embed(docs[0]), m.Embed(docs[0])) < 0.9999 {
		t.Fatal("model changed in a round trip")
	}
	for _, bad := range [][]byte{nil, []byte("MMLSA1\n\x01"), data[:len(data)-3], append(append([]byte(nil), data...), 0)} {
		if err := new(Model).UnmarshalBinary(bad); err == nil {
			t.Errorf("UnmarshalBinary(%d bytes) accepted a damaged model", len(bad))
		}
	}
}

func TestFitRefusesTooFewDocuments(t *testing.T) {
	docs, _ := topics(20, 10, 2, 4)
	if _, err := Fit(context.Background(), docs, FitOptions{K: 64}); err == nil {
		t.Fatal("Fit with 20 documents and k=64 should fail")
	}
	if _, err := Fit(context.Background(), docs, FitOptions{K: 200}); err == nil {
		t.Fatal("Fit with k=200 should fail")
	}
}
