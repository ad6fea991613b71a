package matcher

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"time"

	"gonum.org/v1/gonum/optimize"

	"github.com/medmatch/medmatch"
)

// FitModel fits a semantic model on the Store's public catalogue (records
// anyone may read, so no private demand's words enter the vocabulary), or
// an even sample of opt.MaxDocs of it, analysing records on every CPU.
func (m *Matcher) FitModel(ctx context.Context, opt FitOptions) (*Model, error) {
	start := time.Now()
	type job struct {
		i int
		r medmatch.Record
	}
	// Workers analyse; one collector turns terms into ids (in any order:
	// the fit does not depend on the order of documents).
	jobs := make(chan job, 256)
	analysed := make(chan []string, 256)
	var corpus Corpus
	collected := make(chan struct{})
	go func() {
		for terms := range analysed {
			corpus.Add(terms)
		}
		close(collected)
	}()
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				analysed <- m.RecordTerms(j.r)
			}
		}()
	}
	// With MaxDocs, an even sample: record i is taken when ⌊i·MaxDocs/total⌋
	// steps up.
	total := 0
	if opt.MaxDocs > 0 {
		counts, err := m.store.Counts(ctx)
		if err != nil {
			return nil, err
		}
		for _, c := range counts {
			total += c
		}
	}
	n, seen := 0, 0
	err := eachRecord(ctx, m.store, medmatch.Kinds, func(r medmatch.Record) error {
		if !medmatch.CanRead(medmatch.Viewer{}, r) {
			return nil
		}
		seen++
		if total > opt.MaxDocs && (seen*opt.MaxDocs)/total == ((seen-1)*opt.MaxDocs)/total {
			return nil
		}
		jobs <- job{n, r}
		n++
		return nil
	})
	close(jobs)
	wg.Wait()
	close(analysed)
	<-collected
	if err != nil {
		return nil, err
	}
	done := time.Now()
	model, err := FitCorpus(ctx, &corpus, opt)
	if err == nil {
		m.log.Info("semantic model fitted", "docs", len(corpus.Docs), "terms", len(model.Terms), "k", model.K,
			"analyse", done.Sub(start).Round(time.Millisecond), "svd", time.Since(done).Round(time.Millisecond))
	}
	return model, err
}

// SaveModel stores model as the new active semantic model and loads it.
func (m *Matcher) SaveModel(ctx context.Context, v medmatch.Viewer, model *Model, note string) (int64, error) {
	data, err := model.MarshalBinary()
	if err != nil {
		return 0, err
	}
	a := &medmatch.Artifact{Name: ArtifactModel, Data: data, Note: note}
	if err := m.store.PutArtifact(ctx, v, a); err != nil {
		return 0, err
	}
	return a.Version, m.Reload(ctx)
}

// SaveWeights stores w as the new active weight set and loads it.
func (m *Matcher) SaveWeights(ctx context.Context, v medmatch.Viewer, w *Weights) (int64, error) {
	data, err := json.Marshal(w)
	if err != nil {
		return 0, err
	}
	a := &medmatch.Artifact{Name: ArtifactWeights, Data: data, Note: w.Note}
	if err := m.store.PutArtifact(ctx, v, a); err != nil {
		return 0, err
	}
	return a.Version, m.Reload(ctx)
}

// Label is a graded judgment: how well Candidate answers Query (0–3).
type Label struct {
	Query     medmatch.Ref `json:"query"`
	Candidate medmatch.Ref `json:"candidate"`
	Grade     int          `json:"grade"`
}

// Example is one query's scored pool with the grades of its candidates
// (unjudged = 0).
type Example struct {
	Query  medmatch.Ref
	Refs   []medmatch.Ref
	X      [][]float64
	Grades []int
}

// Examples scores the pool of every labelled query with the features of
// this build and attaches the labels' grades; labelled candidates the key
// terms miss are added to the pool.
func (m *Matcher) Examples(ctx context.Context, v medmatch.Viewer, labels []Label, target func(medmatch.Ref) medmatch.Kind) ([]Example, error) {
	byQuery := map[medmatch.Ref]map[medmatch.Ref]int{}
	var order []medmatch.Ref
	for _, l := range labels {
		if byQuery[l.Query] == nil {
			byQuery[l.Query] = map[medmatch.Ref]int{}
			order = append(order, l.Query)
		}
		byQuery[l.Query][l.Candidate] = l.Grade
	}
	var out []Example
	for _, q := range order {
		grades := byQuery[q]
		var ensure []medmatch.Ref
		for c := range grades {
			ensure = append(ensure, c)
		}
		sort.Slice(ensure, func(i, j int) bool { return ensure[i].ID < ensure[j].ID })
		qq := q
		res, err := m.Match(ctx, v, Request{Source: &qq, Target: target(q), Model: ModelDefault, Limit: 1, Ensure: ensure})
		if err != nil {
			return nil, fmt.Errorf("matcher: examples for %s %s: %w", q.Kind, q.ID, err)
		}
		ex := Example{Query: q}
		for _, mt := range res.Scored() {
			ref := medmatch.Ref{Kind: mt.Kind, ID: mt.ID}
			ex.Refs = append(ex.Refs, ref)
			ex.X = append(ex.X, mt.Features())
			ex.Grades = append(ex.Grades, grades[ref])
		}
		out = append(out, ex)
	}
	return out, nil
}

// TrainOptions control FitWeights.
type TrainOptions struct {
	// L2 is the ridge on the weights; 0 chooses it by cross-validation.
	L2 float64
}

// l2Grid are the ridges cross-validation chooses among.
var l2Grid = []float64{1e-2, 1e-3, 1e-4, 1e-5}

// chooseL2 picks the ridge with the best mean nDCG@10 over 5 folds of the
// queries (each fold's pools ranked by weights fitted on the others);
// ties go to the stronger ridge.
func chooseL2(ctx context.Context, exs []Example) float64 {
	const folds = 5
	if len(exs) < 2*folds {
		return l2Grid[0]
	}
	best, bestScore := l2Grid[0], -1.0
	for _, l2 := range l2Grid {
		var sum float64
		var n int
		for f := range folds {
			var train, held []Example
			for i, ex := range exs {
				if i%folds == f {
					held = append(held, ex)
				} else {
					train = append(train, ex)
				}
			}
			if ctx.Err() != nil {
				return l2Grid[0]
			}
			w, err := FitWeights(ctx, train, TrainOptions{L2: l2})
			if err != nil {
				continue
			}
			for _, ex := range held {
				if v, ok := poolNDCG(ex, w.W); ok {
					sum += v
					n++
				}
			}
		}
		if n > 0 && sum/float64(n) > bestScore+1e-9 {
			best, bestScore = l2, sum/float64(n)
		}
	}
	return best
}

// poolNDCG is nDCG@10 of an example's pool ranked by w (false when the
// pool holds no relevant candidate).
func poolNDCG(ex Example, w []float64) (float64, bool) {
	idx := make([]int, len(ex.X))
	scores := make([]float64, len(ex.X))
	for i := range idx {
		idx[i] = i
		scores[i] = dot(w, ex.X[i])
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	var dcg, idcg float64
	for r, i := range idx[:min(10, len(idx))] {
		dcg += gain(ex.Grades[i]) / math.Log2(float64(r+2))
	}
	gs := append([]int(nil), ex.Grades...)
	sort.Sort(sort.Reverse(sort.IntSlice(gs)))
	if len(gs) == 0 || gs[0] < 2 {
		return 0, false
	}
	for r, g := range gs[:min(10, len(gs))] {
		idcg += gain(g) / math.Log2(float64(r+2))
	}
	return dcg / idcg, true
}

// FitWeights learns weights from examples with a pairwise logistic loss
// (RankNet): for each pair of candidates of one query with different
// grades, the better one should score higher, pairs weighted by the
// difference of their gains 2^grade − 1 as nDCG counts them (putting a 3
// above a 0 matters seven times as much as a 1 above a 0); minimised with
// gonum's L-BFGS. The weights are then scaled and the bias fitted (Platt
// scaling) so that sigmoid(score) estimates the chance a match is relevant
// (grade ≥ 2), which makes scores comparable across queries.
func FitWeights(ctx context.Context, exs []Example, opt TrainOptions) (*Weights, error) {
	if opt.L2 == 0 {
		opt.L2 = chooseL2(ctx, exs)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	nf := len(Features)
	type pair struct {
		d []float64 // x_better − x_worse
		w float64
	}
	var pairs []pair
	for _, ex := range exs {
		for i := range ex.X {
			for j := range ex.X {
				if ex.Grades[i] <= ex.Grades[j] {
					continue
				}
				d := make([]float64, nf)
				for k := range d {
					d[k] = ex.X[i][k] - ex.X[j][k]
				}
				pairs = append(pairs, pair{d, gain(ex.Grades[i]) - gain(ex.Grades[j])})
			}
		}
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("matcher: no pair of candidates with different grades to learn from")
	}
	var total float64
	for _, p := range pairs {
		total += p.w
	}
	prob := optimize.Problem{
		Func: func(w []float64) float64 {
			var loss float64
			for _, p := range pairs {
				loss += p.w * softplus(-dot(w, p.d))
			}
			loss /= total
			for _, x := range w {
				loss += opt.L2 * x * x
			}
			return loss
		},
		Grad: func(g, w []float64) {
			for k := range g {
				g[k] = 2 * opt.L2 * w[k]
			}
			for _, p := range pairs {
				s := -p.w * sigmoid(-dot(w, p.d)) / total
				for k, x := range p.d {
					g[k] += s * x
				}
			}
		},
	}
	init := DefaultWeights().W
	res, err := optimize.Minimize(prob, init, nil, &optimize.LBFGS{})
	if err != nil && res == nil {
		return nil, fmt.Errorf("matcher: fit weights: %w", err)
	}
	w := weightsOf(nil, "")
	copy(w.W, res.X)
	a, b := platt(exs, w.W)
	for i := range w.W {
		w.W[i] *= a
	}
	w.Bias = math.Round(b*1e6) / 1e6
	w.L2 = opt.L2
	if err := w.check(); err != nil {
		return nil, err
	}
	return w, nil
}

// platt fits a and b so that sigmoid(a·(w·x) + b) estimates the chance a
// candidate is relevant (grade ≥ 2): Platt scaling, Newton's method in two
// dimensions. The pairwise loss fixes the direction of w but not its
// scale; without the slope a, probabilities saturate at 0 or 1.
func platt(exs []Example, w []float64) (a, b float64) {
	type pt struct{ s, y float64 }
	var pts []pt
	for _, ex := range exs {
		for i, x := range ex.X {
			y := 0.0
			if ex.Grades[i] >= 2 {
				y = 1
			}
			pts = append(pts, pt{dot(w, x), y})
		}
	}
	loss := func(a, b float64) float64 {
		var l float64
		for _, p := range pts {
			z := a*p.s + b
			// log(1 + e^z) − y·z
			l += softplus(z) - p.y*z
		}
		return l
	}
	a, b = 1, 0
	cur := loss(a, b)
	for range 200 {
		var ga, gb, haa, hab, hbb float64
		for _, p := range pts {
			q := sigmoid(a*p.s + b)
			d, c := q-p.y, q*(1-q)
			ga += d * p.s
			gb += d
			haa += c * p.s * p.s
			hab += c * p.s
			hbb += c
		}
		haa += 1e-9
		hbb += 1e-9
		det := haa*hbb - hab*hab
		var da, db float64
		if det > 1e-18 {
			da = (hbb*ga - hab*gb) / det
			db = (haa*gb - hab*ga) / det
		} else { // flat curvature: a gradient step
			da, db = 1e-3*ga, 1e-3*gb
		}
		// Halve the step until the loss goes down.
		step := 1.0
		improved := false
		for range 40 {
			na, nb := a-step*da, b-step*db
			if l := loss(na, nb); l < cur {
				a, b, cur, improved = na, nb, l, true
				break
			}
			step /= 2
		}
		if !improved || (math.Abs(step*da) < 1e-10 && math.Abs(step*db) < 1e-10) {
			break
		}
	}
	if !(a > 0) || math.IsInf(a, 0) || math.IsNaN(b) {
		return 1, 0
	}
	return a, b
}

// gain is a grade's gain in DCG.
func gain(g int) float64 { return math.Exp2(float64(g)) - 1 }

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// softplus is log(1 + e^x), computed without overflow.
func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	return math.Log1p(math.Exp(x))
}

// TrainRequest is what Train fits.
type TrainRequest struct {
	Labels   []Label // graded judgments (with feedback from the Store added)
	Semantic bool    // refit the semantic model (always when none exists)
	K        int     // semantic model dimensions; 0 for the default
	MaxDocs  int     // fit the semantic model on a sample of this many records; 0: all
	Note     string
}

// TrainReport says what Train stored.
type TrainReport struct {
	SemanticVersion int64    `json:"semantic_version"` // 0: not refitted
	SemanticTerms   int      `json:"semantic_terms,omitempty"`
	SemanticDocs    int      `json:"semantic_docs,omitempty"`
	WeightsVersion  int64    `json:"weights_version"` // 0: no labels or feedback to learn from
	Weights         *Weights `json:"weights,omitempty"`
	Labels          int      `json:"labels"`   // judgments used
	Feedback        int      `json:"feedback"` // feedback entries used
	Queries         int      `json:"queries"`
	TookMS          int64    `json:"took_ms"`
}

// Train fits the semantic model (when asked, or when there is none) and
// learns a weight set from the labels plus the feedback recorded in the
// Store (a feedback entry overrides a label of the same pair), storing
// each as the new active version. Staff only.
func (m *Matcher) Train(ctx context.Context, v medmatch.Viewer, req TrainRequest) (*TrainReport, error) {
	if err := medmatch.CanManageArtifacts(v); err != nil {
		return nil, err
	}
	start := time.Now()
	rep := &TrainReport{}
	m.mu.RLock()
	have := m.model != nil
	m.mu.RUnlock()
	if req.Semantic || !have {
		// A fixed seed: refitting the same catalogue gives the same model.
		model, err := m.FitModel(ctx, FitOptions{K: req.K, MaxDocs: req.MaxDocs, Seed: 1})
		if err != nil {
			return nil, medmatch.Errorf(medmatch.EINVALID, "semantic", "cannot fit the semantic model: %v", err)
		}
		note := fmt.Sprintf("k=%d, %d terms, %d documents", model.K, len(model.Terms), model.Docs)
		if rep.SemanticVersion, err = m.SaveModel(ctx, v, model, note); err != nil {
			return nil, err
		}
		rep.SemanticTerms, rep.SemanticDocs = len(model.Terms), model.Docs
	}
	grade := map[[2]medmatch.Ref]int{}
	var order [][2]medmatch.Ref
	add := func(q, c medmatch.Ref, g int) {
		k := [2]medmatch.Ref{q, c}
		if _, ok := grade[k]; !ok {
			order = append(order, k)
		}
		grade[k] = g
	}
	for _, l := range req.Labels {
		add(l.Query, l.Candidate, l.Grade)
	}
	rep.Labels = len(req.Labels)
	err := m.store.Feedback(ctx, v, func(f medmatch.Feedback) error {
		if len(targets[f.Source.Kind]) == 0 || f.Source.Kind == "" {
			return nil
		}
		add(f.Source, f.Target, f.Action.Grade())
		rep.Feedback++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(order) == 0 {
		rep.TookMS = time.Since(start).Milliseconds()
		return rep, nil
	}
	labels := make([]Label, len(order))
	targetOf := map[medmatch.Ref]medmatch.Kind{}
	for i, k := range order {
		labels[i] = Label{Query: k[0], Candidate: k[1], Grade: grade[k]}
		if _, ok := targetOf[k[0]]; !ok {
			targetOf[k[0]] = k[1].Kind
		}
	}
	exs, err := m.Examples(ctx, v, labels, func(q medmatch.Ref) medmatch.Kind { return targetOf[q] })
	if err != nil {
		return nil, err
	}
	rep.Queries = len(exs)
	w, err := FitWeights(ctx, exs, TrainOptions{})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, medmatch.Errorf(medmatch.EINVALID, "labels", "%v", err)
	}
	w.Note = req.Note
	if w.Note == "" {
		w.Note = fmt.Sprintf("learned from %d labels and %d feedback entries over %d queries", rep.Labels, rep.Feedback, rep.Queries)
	}
	if rep.WeightsVersion, err = m.SaveWeights(ctx, v, w); err != nil {
		return nil, err
	}
	w.Version = rep.WeightsVersion
	rep.Weights = w
	rep.TookMS = time.Since(start).Milliseconds()
	return rep, nil
}

// ResolveLabels maps labels naming records by id to references, looking
// the query up among demands, clinical needs and achievements and the
// candidate among achievements, teams, enterprises and demands. It names
// the first label it cannot resolve.
func ResolveLabels(ctx context.Context, s medmatch.Store, v medmatch.Viewer, raw []RawLabel) ([]Label, error) {
	find := func(id string, kinds ...medmatch.Kind) (medmatch.Ref, bool) {
		for _, k := range kinds {
			if _, err := s.Get(ctx, v, k, id); err == nil {
				return medmatch.Ref{Kind: k, ID: id}, true
			}
		}
		return medmatch.Ref{}, false
	}
	out := make([]Label, 0, len(raw))
	for i, l := range raw {
		q, ok := find(l.Query, medmatch.KindDemand, medmatch.KindNeed, medmatch.KindAchievement)
		if !ok {
			return nil, medmatch.Errorf(medmatch.EINVALID, fmt.Sprintf("labels[%d].query", i), "no demand, clinical need or achievement %q", l.Query)
		}
		c, ok := find(l.Candidate, targets[q.Kind]...)
		if !ok {
			return nil, medmatch.Errorf(medmatch.EINVALID, fmt.Sprintf("labels[%d].candidate", i), "no record %q of a kind a %s is matched to", l.Candidate, q.Kind)
		}
		if l.Grade < 0 || l.Grade > 3 {
			return nil, medmatch.Errorf(medmatch.EINVALID, fmt.Sprintf("labels[%d].grade", i), "is %d; want 0-3", l.Grade)
		}
		out = append(out, Label{Query: q, Candidate: c, Grade: l.Grade})
	}
	return out, nil
}

// RawLabel is a label as written in files and requests.
type RawLabel struct {
	Query     string `json:"query"`
	Candidate string `json:"candidate"`
	Grade     int    `json:"grade"`
	Split     string `json:"split,omitempty"`
}
