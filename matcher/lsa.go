package matcher

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"

	"gonum.org/v1/gonum/mat"
)

// Model is a latent semantic model: the TF-IDF term–document matrix of a
// catalogue reduced to K dimensions by a truncated randomized SVD. A text
// is folded in by weighting its terms as the fitted documents were and
// projecting onto the right singular vectors, so records added after the
// fit get vectors without a refit; two texts are similar when their
// vectors point the same way (cosine).
type Model struct {
	K     int
	Docs  int       // documents fitted on
	Terms []string  // vocabulary, sorted
	IDF   []float32 // per term
	Sigma []float32 // singular values, descending
	// V holds the term loadings, len(Terms)×K row-major: V[t*K:(t+1)*K] is
	// term t's direction in the reduced space.
	V []float32

	index map[string]int32
}

// FitOptions control Fit. Zero values take the defaults.
type FitOptions struct {
	K          int     // dimensions; default 100, at most 128
	Oversample int     // extra random directions; default 10
	PowerIters int     // power iterations; default 2
	MinDF      int     // a term must occur in this many documents; default 2
	MaxDF      float64 // …and in at most this share of them; default 0.5
	MaxTerms   int     // keep the most frequent terms; default 100,000
	MaxDocs    int     // FitModel: fit on an even sample of this many records; 0: all
	Seed       uint64
}

// MaxK bounds the model's dimensions (float32 vectors of at most 512 bytes).
const MaxK = 128

func (o *FitOptions) defaults() {
	if o.K == 0 {
		o.K = 100
	}
	if o.Oversample == 0 {
		o.Oversample = 10
	}
	if o.PowerIters == 0 {
		o.PowerIters = 2
	}
	if o.MinDF == 0 {
		o.MinDF = 2
	}
	if o.MaxDF == 0 {
		o.MaxDF = 0.5
	}
	if o.MaxTerms == 0 {
		o.MaxTerms = 100_000
	}
}

// csr is a sparse row-major matrix.
type csr struct {
	rows, cols int
	ptr        []int
	idx        []int32
	val        []float32
}

// tfidf weights one document's term counts: (1 + ln tf) · idf, scaled to
// unit length. ids and counts are parallel; the result is written over
// counts' weights in w.
func tfidf(ids []int32, counts []int, idf []float32, w []float32) {
	var norm float64
	for i, id := range ids {
		x := (1 + math.Log(float64(counts[i]))) * float64(idf[id])
		w[i] = float32(x)
		norm += x * x
	}
	if norm == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(norm))
	for i := range w {
		w[i] *= inv
	}
}

// Corpus holds documents as term ids: a catalogue's analysed text takes a
// tenth of the memory of the same terms as strings.
type Corpus struct {
	Terms []string
	Docs  [][]int32
	index map[string]int32
}

// Add appends a document given as its terms (repeats count).
func (c *Corpus) Add(terms []string) {
	if c.index == nil {
		c.index = map[string]int32{}
	}
	d := make([]int32, len(terms))
	for i, t := range terms {
		id, ok := c.index[t]
		if !ok {
			id = int32(len(c.Terms))
			c.index[t] = id
			c.Terms = append(c.Terms, t)
		}
		d[i] = id
	}
	c.Docs = append(c.Docs, d)
}

// Fit fits a model on the documents, each given as its terms (repeats
// count). It needs more than K+Oversample documents and terms.
func Fit(ctx context.Context, docs [][]string, opt FitOptions) (*Model, error) {
	var c Corpus
	for _, d := range docs {
		c.Add(d)
	}
	return FitCorpus(ctx, &c, opt)
}

// FitCorpus fits a model on a corpus.
func FitCorpus(ctx context.Context, c *Corpus, opt FitOptions) (*Model, error) {
	opt.defaults()
	if opt.K < 1 || opt.K > MaxK {
		return nil, fmt.Errorf("matcher.Fit: k = %d; want 1..%d", opt.K, MaxK)
	}
	// Vocabulary by document frequency.
	df := make([]int, len(c.Terms))
	last := make([]int, len(c.Terms))
	for i, d := range c.Docs {
		for _, t := range d {
			if last[t] != i+1 {
				last[t] = i + 1
				df[t]++
			}
		}
	}
	n := len(c.Docs)
	maxDF := int(opt.MaxDF * float64(n))
	var vocab []int32
	for t, x := range df {
		if x >= opt.MinDF && x <= maxDF {
			vocab = append(vocab, int32(t))
		}
	}
	if len(vocab) > opt.MaxTerms {
		sort.Slice(vocab, func(i, j int) bool {
			if df[vocab[i]] != df[vocab[j]] {
				return df[vocab[i]] > df[vocab[j]]
			}
			return c.Terms[vocab[i]] < c.Terms[vocab[j]]
		})
		vocab = vocab[:opt.MaxTerms]
	}
	sort.Slice(vocab, func(i, j int) bool { return c.Terms[vocab[i]] < c.Terms[vocab[j]] })
	m := &Model{K: opt.K, Docs: n, Terms: make([]string, len(vocab)), IDF: make([]float32, len(vocab))}
	remap := make([]int32, len(c.Terms))
	for i := range remap {
		remap[i] = -1
	}
	for i, t := range vocab {
		m.Terms[i] = c.Terms[t]
		m.IDF[i] = float32(math.Log(float64(n+1)/float64(df[t]+1)) + 1)
		remap[t] = int32(i)
	}
	m.buildIndex()
	// The weighted term–document matrix, documents as rows.
	a := &csr{rows: n, cols: len(vocab), ptr: make([]int, 1, n+1)}
	var ids []int32
	var counts []int
	var w []float32
	tf := map[int32]int{}
	for _, d := range c.Docs {
		clear(tf)
		for _, t := range d {
			if id := remap[t]; id >= 0 {
				tf[id]++
			}
		}
		ids, counts = ids[:0], counts[:0]
		for id := range tf {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		for _, id := range ids {
			counts = append(counts, tf[id])
		}
		w = append(w[:0], make([]float32, len(ids))...)
		tfidf(ids, counts, m.IDF, w)
		a.idx = append(a.idx, ids...)
		a.val = append(a.val, w...)
		a.ptr = append(a.ptr, len(a.idx))
	}
	l := opt.K + opt.Oversample
	if l > a.cols || l > a.rows {
		return nil, fmt.Errorf("matcher.Fit: %d documents and %d terms are too few for k = %d (need more than %d of each)", a.rows, a.cols, opt.K, l)
	}
	v, sigma, err := randomizedSVD(ctx, a, opt.K, l, opt.PowerIters, opt.Seed)
	if err != nil {
		return nil, err
	}
	m.V, m.Sigma = v, sigma
	return m, nil
}

func (m *Model) buildIndex() {
	m.index = make(map[string]int32, len(m.Terms))
	for i, t := range m.Terms {
		m.index[t] = int32(i)
	}
}

// count maps terms to vocabulary ids with their counts, in id order.
func (m *Model) count(terms []string, ids []int32, counts []int) ([]int32, []int) {
	tf := map[int32]int{}
	for _, t := range terms {
		if id, ok := m.index[t]; ok {
			tf[id]++
		}
	}
	for id := range tf {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		counts = append(counts, tf[id])
	}
	return ids, counts
}

// Embed folds a text, given as its terms, into the reduced space: the unit
// vector of its TF-IDF weights projected on the term loadings. It returns
// nil when no term of the text is in the vocabulary.
func (m *Model) Embed(terms []string) []float32 {
	ids, counts := m.count(terms, nil, nil)
	if len(ids) == 0 {
		return nil
	}
	w := make([]float32, len(ids))
	tfidf(ids, counts, m.IDF, w)
	out := make([]float32, m.K)
	for i, id := range ids {
		row := m.V[int(id)*m.K : int(id+1)*m.K]
		for j, x := range row {
			out[j] += w[i] * x
		}
	}
	var norm float64
	for _, x := range out {
		norm += float64(x) * float64(x)
	}
	if norm == 0 {
		return nil
	}
	inv := float32(1 / math.Sqrt(norm))
	for j := range out {
		out[j] *= inv
	}
	return out
}

// Cosine is the cosine of two unit vectors (0 if either is nil).
func Cosine(a, b []float32) float64 {
	if a == nil || b == nil || len(a) != len(b) {
		return 0
	}
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return float64(s)
}

// randomizedSVD returns the top k right singular vectors (cols×k,
// row-major, float32) and singular values of a, by the randomized range
// finder with power iterations (Halko, Martinsson & Tropp 2011, algorithms
// 4.4 and 5.1) on l ≥ k directions.
func randomizedSVD(ctx context.Context, a *csr, k, l, iters int, seed uint64) ([]float32, []float32, error) {
	at := a.transpose()
	rng := rand.New(rand.NewPCG(seed, 0x6d65646d61746368))
	omega := mat.NewDense(a.cols, l, nil)
	raw := omega.RawMatrix()
	for i := range raw.Data {
		raw.Data[i] = rng.NormFloat64()
	}
	// Q spans the range of A·Ω, refined by power iterations (A·Aᵀ)^q.
	q, err := orthonormal(a.mul(omega))
	if err != nil {
		return nil, nil, err
	}
	for range iters {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		z, err := orthonormal(at.mul(q))
		if err != nil {
			return nil, nil, err
		}
		if q, err = orthonormal(a.mul(z)); err != nil {
			return nil, nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	// B = Qᵀ·A is l×cols; its right singular vectors are A's. With
	// Bᵀ = Aᵀ·Q: B·Bᵀ = W·Σ²·Wᵀ and V = Bᵀ·W·Σ⁻¹.
	bt := at.mul(q) // cols×l
	var bbt mat.SymDense
	bbt.SymOuterK(1, bt.T())
	var eig mat.EigenSym
	if !eig.Factorize(&bbt, true) {
		return nil, nil, errors.New("matcher: eigendecomposition did not converge")
	}
	vals := eig.Values(nil) // ascending
	var w mat.Dense
	eig.VectorsTo(&w)
	sigma := make([]float32, k)
	scale := mat.NewDense(l, k, nil)
	for j := range k {
		src := l - 1 - j // largest first
		s := math.Sqrt(math.Max(vals[src], 0))
		sigma[j] = float32(s)
		if s == 0 {
			continue
		}
		for i := range l {
			scale.Set(i, j, w.At(i, src)/s)
		}
	}
	var v mat.Dense
	v.Mul(bt, scale) // cols×k
	out := make([]float32, a.cols*k)
	for i := range a.cols {
		for j := range k {
			out[i*k+j] = float32(v.At(i, j))
		}
	}
	return out, sigma, nil
}

// orthonormal returns an orthonormal basis of y's columns by Cholesky QR,
// done twice for accuracy (CholeskyQR2): G = YᵀY = RᵀR, Q = Y·R⁻¹. A tall
// Householder QR would do the same at several times the cost here.
func orthonormal(y *mat.Dense) (*mat.Dense, error) {
	q := y
	for range 2 {
		_, c := q.Dims()
		var g mat.SymDense
		g.SymOuterK(1, q.T())
		var ch mat.Cholesky
		if !ch.Factorize(&g) {
			// Nearly dependent columns: a tiny ridge keeps the basis finite.
			ridge := 1e-10 * mat.Trace(&g)
			for i := range c {
				g.SetSym(i, i, g.At(i, i)+ridge+1e-300)
			}
			if !ch.Factorize(&g) {
				return nil, errors.New("matcher: random range basis is degenerate")
			}
		}
		var r, rinv mat.TriDense
		ch.UTo(&r)
		if err := rinv.InverseTri(&r); err != nil {
			return nil, fmt.Errorf("matcher: range basis: %w", err)
		}
		var next mat.Dense
		next.Mul(q, &rinv)
		q = &next
	}
	return q, nil
}

func (a *csr) transpose() *csr {
	t := &csr{rows: a.cols, cols: a.rows, ptr: make([]int, a.cols+1), idx: make([]int32, len(a.idx)), val: make([]float32, len(a.val))}
	for _, j := range a.idx {
		t.ptr[j+1]++
	}
	for j := range a.cols {
		t.ptr[j+1] += t.ptr[j]
	}
	next := append([]int(nil), t.ptr[:a.cols]...)
	for i := range a.rows {
		for p := a.ptr[i]; p < a.ptr[i+1]; p++ {
			j := a.idx[p]
			t.idx[next[j]] = int32(i)
			t.val[next[j]] = a.val[p]
			next[j]++
		}
	}
	return t
}

// mul returns a·x for dense x, rows split across the CPUs.
func (a *csr) mul(x *mat.Dense) *mat.Dense {
	_, l := x.Dims()
	out := mat.NewDense(a.rows, l, nil)
	xr, or := x.RawMatrix(), out.RawMatrix()
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	chunk := (a.rows + workers - 1) / workers
	for lo := 0; lo < a.rows; lo += chunk {
		hi := min(lo+chunk, a.rows)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				dst := or.Data[i*or.Stride : i*or.Stride+l]
				for p := a.ptr[i]; p < a.ptr[i+1]; p++ {
					v := float64(a.val[p])
					src := xr.Data[int(a.idx[p])*xr.Stride : int(a.idx[p])*xr.Stride+l]
					for j, s := range src {
						dst[j] += v * s
					}
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// The binary form: magic, then little-endian K, Docs, term count, the
// terms (length-prefixed), IDF, Sigma and V as float32.
var modelMagic = []byte("MMLSA1\n")

// MarshalBinary encodes the model.
func (m *Model) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.Write(modelMagic)
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	w(uint32(m.K))
	w(uint32(m.Docs))
	w(uint32(len(m.Terms)))
	for _, t := range m.Terms {
		w(uint16(len(t)))
		b.WriteString(t)
	}
	w(m.IDF)
	w(m.Sigma)
	w(m.V)
	return b.Bytes(), nil
}

// UnmarshalBinary decodes a model written by MarshalBinary.
func (m *Model) UnmarshalBinary(data []byte) error {
	if !bytes.HasPrefix(data, modelMagic) {
		return errors.New("matcher: not a semantic model")
	}
	r := bytes.NewReader(data[len(modelMagic):])
	var k, docs, nt uint32
	for _, p := range []*uint32{&k, &docs, &nt} {
		if err := binary.Read(r, binary.LittleEndian, p); err != nil {
			return fmt.Errorf("matcher: read model header: %w", err)
		}
	}
	if k == 0 || k > MaxK || int64(nt)*int64(k)*4 > int64(len(data)) {
		return fmt.Errorf("matcher: model header k=%d terms=%d does not fit %d bytes", k, nt, len(data))
	}
	m.K, m.Docs = int(k), int(docs)
	m.Terms = make([]string, nt)
	for i := range m.Terms {
		var n uint16
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return fmt.Errorf("matcher: read term %d: %w", i, err)
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("matcher: read term %d: %w", i, err)
		}
		m.Terms[i] = string(buf)
	}
	m.IDF = make([]float32, nt)
	m.Sigma = make([]float32, k)
	m.V = make([]float32, int(nt)*int(k))
	for _, p := range []any{m.IDF, m.Sigma, m.V} {
		if err := binary.Read(r, binary.LittleEndian, p); err != nil {
			return fmt.Errorf("matcher: read model arrays: %w", err)
		}
	}
	if r.Len() != 0 {
		return fmt.Errorf("matcher: %d bytes after the model", r.Len())
	}
	m.buildIndex()
	return nil
}

// Fingerprint identifies the model's content (for cache keys and logs).
func (m *Model) Fingerprint() uint64 {
	h := fnv.New64a()
	data, _ := m.MarshalBinary()
	h.Write(data)
	return h.Sum64()
}
