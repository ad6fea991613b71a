// Package matcher scores two-way matches between the catalogue's records:
// demand → achievements, achievement → enterprises, clinical need →
// achievements, teams and enterprises, free text → achievements.
//
// A match is found in three steps. The source's key terms (TF-IDF over
// the index's document frequencies) make a candidate query on the bleve
// index, with the hard filters (kind, status, the viewer's visibility)
// inside it, so no step scans the catalogue. Each candidate of the pool
// gets a feature vector (text relevance, latent semantic similarity,
// specialty and field overlap, maturity, transfer-mode and budget fit,
// region, recency). A weight set — built in, or trained from labelled
// pairs and users' feedback and stored in the Store — scores the pool with
// gonum, and every match carries the contributions that add up to its
// score.
package matcher

import (
	"context"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gonum.org/v1/gonum/mat"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/indexer"
)

// Artifact names in the Store.
const (
	ArtifactModel   = "lsa"
	ArtifactWeights = "weights"
)

// Limits.
const (
	DefaultLimit    = 20
	MaxLimit        = 100
	DefaultPoolSize = 100
	MaxTextChars    = 5000
	keyTerms        = 24
	minTerms        = 6       // key terms kept whatever their frequency
	postingBudget   = 100_000 // records the key terms may match in all (see keyTerms)
)

// Options configure New.
type Options struct {
	PoolSize  int           // candidates scored per match; default 100
	CacheSize int           // folded-in vectors kept; default 1,000,000 (≈ 700 MB at k = 100)
	Refresh   time.Duration // how often to look for a newer model or weight set; default 10 s
	Logger    *slog.Logger
	Now       func() time.Time
}

// Matcher finds and scores matches. It is safe for concurrent use.
type Matcher struct {
	store medmatch.Store
	ix    *indexer.Index
	an    *dict.Analyzer
	opt   Options
	log   *slog.Logger

	mu        sync.RWMutex
	model     *Model
	modelVer  int64
	weights   *Weights // the active trained set, nil if none
	checked   time.Time
	cache     *vecCache
	autoCache bool
	stats     cacheCounters
}

// New returns a matcher over store and its index, loading the active
// semantic model and weight set if the Store holds them.
func New(ctx context.Context, store medmatch.Store, ix *indexer.Index, opt Options) (*Matcher, error) {
	if opt.PoolSize <= 0 {
		opt.PoolSize = DefaultPoolSize
	}
	auto := opt.CacheSize <= 0
	if auto {
		opt.CacheSize = 100_000
	}
	if opt.Refresh <= 0 {
		opt.Refresh = 10 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	m := &Matcher{store: store, ix: ix, an: ix.Analyzer(), opt: opt, log: opt.Logger, cache: newVecCache(opt.CacheSize), autoCache: auto}
	if err := m.Reload(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// Reload loads the Store's active semantic model and weight set when they
// differ from the ones in use.
func (m *Matcher) Reload(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.checked = time.Now()
	if err := m.loadModel(ctx); err != nil {
		return err
	}
	return m.loadWeights(ctx)
}

func active(list []medmatch.Artifact) int64 {
	for _, a := range list {
		if a.Active {
			return a.Version
		}
	}
	return 0
}

func (m *Matcher) loadModel(ctx context.Context) error {
	list, err := m.store.Artifacts(ctx, ArtifactModel)
	if err != nil {
		return err
	}
	v := active(list)
	if v == m.modelVer {
		return nil
	}
	if v == 0 {
		m.model, m.modelVer = nil, 0
		m.cache.reset()
		return nil
	}
	a, err := m.store.Artifact(ctx, ArtifactModel, v)
	if err != nil {
		return err
	}
	model := new(Model)
	if err := model.UnmarshalBinary(a.Data); err != nil {
		return err
	}
	m.model, m.modelVer = model, v
	m.cache.reset()
	m.log.Info("semantic model loaded", "version", v, "k", model.K, "terms", len(model.Terms), "docs", model.Docs)
	return nil
}

func (m *Matcher) loadWeights(ctx context.Context) error {
	a, err := m.store.Artifact(ctx, ArtifactWeights, 0)
	if medmatch.ErrorCode(err) == medmatch.ENOTFOUND {
		m.weights = nil
		return nil
	} else if err != nil {
		return err
	}
	if m.weights != nil && m.weights.Version == a.Version {
		return nil
	}
	w, err := decodeWeights(a.Data)
	if err != nil {
		m.log.Warn("active weight set unusable; using the default weights", "version", a.Version, "err", err)
		m.weights = nil
		return nil
	}
	w.Version = a.Version
	m.weights = w
	m.log.Info("weights loaded", "version", a.Version)
	return nil
}

// refresh reloads now and then, so every replica picks up a model or
// weight set trained elsewhere.
func (m *Matcher) refresh(ctx context.Context) {
	m.mu.RLock()
	due := time.Since(m.checked) > m.opt.Refresh
	m.mu.RUnlock()
	if due {
		if err := m.Reload(ctx); err != nil {
			m.log.Warn("reload matcher model", "err", err)
		}
	}
}

// Request asks for matches.
type Request struct {
	Source *medmatch.Ref  // a demand, achievement or clinical need; or
	Text   string         // free text (Source nil)
	Target medmatch.Kind  // achievement, team or enterprise; "" for the source's default
	Limit  int            // 1..MaxLimit; 0 means DefaultLimit
	Model  string         // ModelLearned (default), ModelDefault, ModelBM25, ModelSemantic
	Pool   int            // candidates to score; 0 means Options.PoolSize
	Ensure []medmatch.Ref // candidates to score even if the key terms miss them (training)
	// Filters are extra hard filters on the candidates' keyword fields
	// (maturity, ip_status, specialty …), inside the candidate query.
	Filters map[string][]string
	// Within bounds the candidates to the hits of a search (a roadshow's
	// saved search).
	Within *indexer.Request
}

// Match is one scored match.
type Match struct {
	Kind        medmatch.Kind   `json:"type"`
	ID          string          `json:"id"`
	Title       string          `json:"title"`
	Score       float64         `json:"score"`
	Explanation Explanation     `json:"explanation"`
	Via         *medmatch.Ref   `json:"via,omitempty"` // for an enterprise: the demand that matched
	Record      medmatch.Record `json:"record"`
	features    []float64
}

// Features returns the match's feature vector in Features order.
func (m *Match) Features() []float64 { return m.features }

// Result is the answer to a Request.
type Result struct {
	Source   *medmatch.Ref          `json:"source,omitempty"`
	Target   medmatch.Kind          `json:"target"`
	Model    string                 `json:"model"`
	Weights  int64                  `json:"weights_version"`  // 0: built in
	Semantic int64                  `json:"semantic_version"` // 0: no semantic model (semantic feature is 0)
	Terms    []indexer.WeightedTerm `json:"terms"`
	Matches  []Match                `json:"matches"`
	Pool     int                    `json:"pool"`
	TookMS   float64                `json:"took_ms"`
	weights  *Weights
	byRef    map[medmatch.Ref]*Match // every scored candidate, for evaluation
	poolList []*Match
}

// Scored returns every candidate scored (not only the first Limit), best
// first: the pool the evaluation ranks.
func (r *Result) Scored() []*Match { return r.poolList }

// targets maps each source kind to the kinds it may be matched to; the
// first is the default.
var targets = map[medmatch.Kind][]medmatch.Kind{
	medmatch.KindDemand:      {medmatch.KindAchievement},
	medmatch.KindAchievement: {medmatch.KindEnterprise},
	medmatch.KindNeed:        {medmatch.KindAchievement, medmatch.KindTeam, medmatch.KindEnterprise},
	"":                       {medmatch.KindAchievement, medmatch.KindTeam},
}

// Targets lists the kinds a source kind may be matched to ("" is free text).
func Targets(k medmatch.Kind) []medmatch.Kind { return targets[k] }

func (req *Request) validate() error {
	if req.Limit == 0 {
		req.Limit = DefaultLimit
	}
	if req.Limit < 1 || req.Limit > MaxLimit {
		return medmatch.Errorf(medmatch.EINVALID, "limit", "must be between 1 and %d", MaxLimit)
	}
	if req.Model == "" {
		req.Model = ModelLearned
	}
	ok := false
	for _, m := range Models {
		ok = ok || req.Model == m
	}
	if !ok {
		return medmatch.Errorf(medmatch.EINVALID, "model", "unknown model %q (want one of %s)", req.Model, strings.Join(Models, ", "))
	}
	var sk medmatch.Kind
	if req.Source != nil {
		sk = req.Source.Kind
		if _, ok := targets[sk]; !ok || sk == "" {
			return medmatch.Errorf(medmatch.EINVALID, "source", "matches are found for demands, achievements and clinical needs, not %ss", sk)
		}
	} else {
		req.Text = strings.TrimSpace(req.Text)
		if req.Text == "" {
			return medmatch.Errorf(medmatch.EINVALID, "text", "is required when no source record is named")
		}
		if n := len([]rune(req.Text)); n > MaxTextChars {
			return medmatch.Errorf(medmatch.EINVALID, "text", "is %d characters; at most %d", n, MaxTextChars)
		}
	}
	ts := targets[sk]
	if req.Target == "" {
		req.Target = ts[0]
	}
	for _, t := range ts {
		if t == req.Target {
			return nil
		}
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Plural()
	}
	what := "free text"
	if sk != "" {
		what = "a " + string(sk)
	}
	return medmatch.Errorf(medmatch.EINVALID, "target", "%s is matched to %s, not %s", what, strings.Join(names, " or "), req.Target.Plural())
}

// Match finds and scores the matches of a request for viewer v. A source
// v may not read is ENOTFOUND; the enterprises that may be interested in
// an achievement or a clinical need are shown to staff and the record's
// own institution only (EFORBIDDEN otherwise). Only records v may read
// are candidates.
func (m *Matcher) Match(ctx context.Context, v medmatch.Viewer, req Request) (*Result, error) {
	start := time.Now()
	if err := req.validate(); err != nil {
		return nil, err
	}
	m.refresh(ctx)
	m.mu.RLock()
	model, modelVer, trained := m.model, m.modelVer, m.weights
	m.mu.RUnlock()

	res := &Result{Source: req.Source, Target: req.Target, Model: req.Model, Semantic: modelVer, Matches: []Match{}}
	switch req.Model {
	case ModelBM25:
		res.weights = single(FText)
	case ModelSemantic:
		res.weights = single(FSemantic)
	case ModelDefault:
		res.weights = DefaultWeights()
	default:
		res.weights = trained
		if trained == nil {
			res.weights = DefaultWeights()
		}
	}
	res.Weights = res.weights.Version

	// The source.
	var src medmatch.Record
	var srcSide side
	var srcText []medmatch.Field
	var exclude []medmatch.Ref
	if req.Source != nil {
		r, err := m.store.Get(ctx, v, req.Source.Kind, req.Source.ID)
		if err != nil {
			if medmatch.ErrorCode(err) == medmatch.ENOTFOUND {
				return nil, medmatch.Errorf(medmatch.ENOTFOUND, "source", "no %s %q", req.Source.Kind, req.Source.ID)
			}
			return nil, err
		}
		if req.Target == medmatch.KindEnterprise && !medmatch.Owns(v, r) {
			if v.Anonymous() {
				return nil, medmatch.Errorf(medmatch.EUNAUTHORIZED, "", "sign in to see which enterprises may be interested")
			}
			return nil, medmatch.Errorf(medmatch.EFORBIDDEN, "target", "the enterprises that may be interested in a %s are shown to organizers and its own institution only", r.Kind())
		}
		src = r
		var ent *medmatch.Enterprise
		if d, ok := r.(*medmatch.Demand); ok {
			if e, err := m.store.Get(ctx, medmatch.System, medmatch.KindEnterprise, d.EnterpriseID); err == nil {
				ent = e.(*medmatch.Enterprise) // its region counts for the demand
			}
		}
		srcSide = sideOf(r, ent)
		srcText = r.Text()
		exclude = append(exclude, *req.Source)
	} else {
		srcText = []medmatch.Field{{Name: "text", Value: req.Text}}
	}

	// Key terms and the candidate pool.
	terms := m.keyTerms(ctx, srcText)
	res.Terms = terms
	if res.Terms == nil {
		res.Terms = []indexer.WeightedTerm{}
	}
	pool := req.Pool
	if pool <= 0 {
		pool = m.opt.PoolSize
	}
	cands, err := m.candidates(ctx, v, &req, terms, exclude, pool)
	if err != nil {
		return nil, err
	}
	refs := make([]medmatch.Ref, len(cands))
	for i, c := range cands {
		refs[i] = c.Ref
	}
	recs, err := m.store.GetMany(ctx, v, refs)
	if err != nil {
		return nil, err
	}
	// Enterprises of demand candidates (region, and the match itself when
	// the target is enterprises).
	ents, err := m.enterprisesOf(ctx, v, recs)
	if err != nil {
		return nil, err
	}
	var ownEnt string
	if d, ok := src.(*medmatch.Demand); ok {
		ownEnt = d.EnterpriseID
	}

	// Semantic vectors.
	var srcVec []float32
	var vecs [][]float32
	if model != nil {
		srcVec = model.Embed(m.fieldTerms(srcText))
		vecs = m.vectors(model, modelVer, recs)
	}

	// Features, then scores with gonum.
	now := m.opt.Now()
	maxText := 0.0
	for _, c := range cands {
		maxText = math.Max(maxText, c.Score)
	}
	x := mat.NewDense(max(1, len(cands)), len(Features), nil)
	var kept []int
	for i, r := range recs {
		if r == nil {
			continue
		}
		if d, ok := r.(*medmatch.Demand); ok && (d.EnterpriseID == ownEnt || ents[d.EnterpriseID] == nil && req.Target == medmatch.KindEnterprise) {
			continue
		}
		var ent *medmatch.Enterprise
		if d, ok := r.(*medmatch.Demand); ok {
			ent = ents[d.EnterpriseID]
		}
		text := 0.0
		if maxText > 0 {
			text = cands[i].Score / maxText
		}
		sem := 0.0
		if vecs != nil {
			sem = Cosine(srcVec, vecs[i])
		}
		row := make([]float64, len(Features))
		features(row, srcSide, sideOf(r, ent), text, sem, now)
		x.SetRow(len(kept), row)
		kept = append(kept, i)
	}
	scores := res.weights.scoreAll(x)
	res.byRef = map[medmatch.Ref]*Match{}
	for n, i := range kept {
		r := recs[i]
		mt := &Match{Kind: r.Kind(), ID: r.Base().ID, Title: r.Text()[0].Value, Score: scores[n], Record: r,
			features: mat.Row(nil, n, x)}
		mt.Explanation = res.weights.explain(mat.NewVecDense(len(Features), mt.features))
		if req.Target == medmatch.KindEnterprise {
			mt = asEnterprise(mt, ents)
			if mt == nil {
				continue
			}
		}
		ref := medmatch.Ref{Kind: mt.Kind, ID: mt.ID}
		if old, ok := res.byRef[ref]; ok && old.Score >= mt.Score {
			continue // an enterprise's best demand or profile speaks for it
		}
		res.byRef[ref] = mt
	}
	for _, mt := range res.byRef {
		res.poolList = append(res.poolList, mt)
	}
	sort.Slice(res.poolList, func(i, j int) bool {
		a, b := res.poolList[i], res.poolList[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.ID < b.ID
	})
	res.Pool = len(res.poolList)
	for _, mt := range res.poolList[:min(req.Limit, len(res.poolList))] {
		src := mt.Record
		if mt.Via != nil { // the demand that matched, not the enterprise
			for _, r := range recs {
				if r != nil && r.Kind() == mt.Via.Kind && r.Base().ID == mt.Via.ID {
					src = r
				}
			}
		}
		mt.Explanation.Terms = matchedTerms(terms, src)
		res.Matches = append(res.Matches, *mt)
	}
	res.TookMS = float64(time.Since(start).Microseconds()) / 1000
	return res, nil
}

// asEnterprise turns a demand or enterprise-profile candidate into a match
// for its enterprise; nil when the enterprise is not readable.
func asEnterprise(mt *Match, ents map[string]*medmatch.Enterprise) *Match {
	switch r := mt.Record.(type) {
	case *medmatch.Enterprise:
		return mt
	case *medmatch.Demand:
		e := ents[r.EnterpriseID]
		if e == nil {
			return nil
		}
		out := *mt
		out.Kind, out.ID, out.Title, out.Record = medmatch.KindEnterprise, e.ID, e.Name, e
		out.Via = &medmatch.Ref{Kind: medmatch.KindDemand, ID: r.ID}
		return &out
	}
	return nil
}

// enterprisesOf reads the enterprises of the demands among recs, as v
// sees them.
func (m *Matcher) enterprisesOf(ctx context.Context, v medmatch.Viewer, recs []medmatch.Record) (map[string]*medmatch.Enterprise, error) {
	var refs []medmatch.Ref
	seen := map[string]bool{}
	for _, r := range recs {
		if d, ok := r.(*medmatch.Demand); ok && !seen[d.EnterpriseID] {
			seen[d.EnterpriseID] = true
			refs = append(refs, medmatch.Ref{Kind: medmatch.KindEnterprise, ID: d.EnterpriseID})
		}
	}
	out := map[string]*medmatch.Enterprise{}
	if len(refs) == 0 {
		return out, nil
	}
	got, err := m.store.GetMany(ctx, v, refs)
	if err != nil {
		return nil, err
	}
	for _, r := range got {
		if e, ok := r.(*medmatch.Enterprise); ok {
			out[e.ID] = e
		}
	}
	return out, nil
}

// candidates queries the index for the pool. Achievements and clinical
// needs must be published; demands open. For enterprises, both their open
// demands and their profiles are candidates.
func (m *Matcher) candidates(ctx context.Context, v medmatch.Viewer, req *Request, terms []indexer.WeightedTerm,
	exclude []medmatch.Ref, size int) ([]indexer.Candidate, error) {
	run := func(k medmatch.Kind, filters map[string][]string) ([]indexer.Candidate, error) {
		var inc []medmatch.Ref
		for _, r := range req.Ensure {
			if r.Kind == k {
				inc = append(inc, r)
			}
		}
		all := map[string][]string{}
		for f, vs := range filters {
			all[f] = vs
		}
		for f, vs := range req.Filters {
			all[f] = vs
		}
		return m.ix.Candidates(ctx, v, indexer.CandidateRequest{Kinds: []medmatch.Kind{k}, Terms: terms,
			Filters: all, Include: inc, Exclude: exclude, Size: size + len(inc), Within: req.Within})
	}
	target := req.Target
	switch target {
	case medmatch.KindAchievement:
		return run(target, map[string][]string{"status": {string(medmatch.StatusPublished)}})
	case medmatch.KindEnterprise:
		ds, err := run(medmatch.KindDemand, map[string][]string{"status": {string(medmatch.DemandOpen)}})
		if err != nil {
			return nil, err
		}
		es, err := run(medmatch.KindEnterprise, nil)
		return append(ds, es...), err
	default:
		return run(target, nil)
	}
}

// fieldTerms is the analysed text of a record's fields as the semantic
// model sees it: every word and its sub-words, the title twice.
func (m *Matcher) fieldTerms(fields []medmatch.Field) []string {
	var out []string
	for i, f := range fields {
		toks := m.an.Tokens([]byte(f.Value), dict.Index)
		for range 1 + btoi(i == 0) {
			for _, t := range toks {
				if useful(t.Term) {
					out = append(out, string(t.Term))
				}
			}
		}
	}
	return out
}

// RecordTerms is what the semantic model is fitted on for one record.
func (m *Matcher) RecordTerms(r medmatch.Record) []string { return m.fieldTerms(r.Text()) }

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// useful drops numbers and lone letters.
func useful(t []byte) bool {
	if len(t) == 0 || (len(t) == 1 && t[0] < 0x80) {
		return false
	}
	for _, c := range t {
		if (c < '0' || c > '9') && c != '.' && c != '%' {
			return true
		}
	}
	return false
}

// fieldWeights weighs where a term occurs when picking key terms.
var fieldWeights = map[string]float64{"title": 3, "name": 3, "summary": 2, "problem": 2}

// keyTerms picks the source's key terms by TF-IDF: occurrences weighted
// by field, times the inverse document frequency in the index. Terms found
// in more than 20% of the records are dropped unless nothing else is left,
// and terms absent from the index are dropped (they cannot match).
func (m *Matcher) keyTerms(ctx context.Context, fields []medmatch.Field) []indexer.WeightedTerm {
	tf := map[string]float64{}
	var order []string
	for _, f := range fields {
		w := fieldWeights[f.Name]
		if w == 0 {
			w = 1
		}
		if f.Name == "institution" || f.Name == "hospital" || f.Name == "team" || f.Name == "department" {
			continue // who offers it is not what it is
		}
		for _, t := range m.an.Tokens([]byte(f.Value), dict.Query) {
			s := string(t.Term)
			if !useful(t.Term) || (utf8.RuneCountInString(s) == 1 && !medical()[s]) {
				continue // a lone character (场, 瓦) says little unless it is a medical word (肺, 癌)
			}
			if _, ok := tf[s]; !ok {
				order = append(order, s)
			}
			tf[s] += w
		}
	}
	if len(order) == 0 {
		return nil
	}
	df, n := m.ix.DocFreqs(ctx, order)
	if n == 0 {
		return nil
	}
	type scored struct {
		t string
		w float64
	}
	var rare, common []scored
	for _, t := range order {
		d := df[t]
		if d == 0 {
			continue
		}
		w := (1 + math.Log(tf[t])) * math.Log(1+float64(n)/float64(d))
		if medical()[t] {
			w *= medicalBoost
		} else if function[m.an.POS(t)] {
			w *= functionWeight
		}
		if float64(d) > 0.2*float64(n) {
			common = append(common, scored{t, w})
		} else {
			rare = append(rare, scored{t, w})
		}
	}
	if len(rare) == 0 {
		rare = common
	}
	sort.SliceStable(rare, func(i, j int) bool { return rare[i].w > rare[j].w })
	// Bound the query's work: past the first minTerms, a term joins only
	// while the postings of all chosen terms stay within postingBudget, so
	// on a large catalogue the frequent terms give way (they decide little
	// and cost most).
	var kept []scored
	var postings uint64
	for _, t := range rare {
		if len(kept) == keyTerms {
			break
		}
		if len(kept) >= minTerms && postings+df[t.t] > postingBudget {
			continue
		}
		postings += df[t.t]
		kept = append(kept, t)
	}
	rare = kept
	if len(rare) == 0 {
		return nil
	}
	top := rare[0].w
	out := make([]indexer.WeightedTerm, len(rare))
	for i, s := range rare {
		out[i] = indexer.WeightedTerm{Term: s.t, Weight: math.Round(s.w/top*1000) / 1000}
	}
	return out
}

// medicalBoost favours the dictionary's medical words as key terms over
// the general words of a profile (经费, 拨付, 共有), which are often just as
// rare.
const medicalBoost = 1.5

// function marks the parts of speech that rarely say what a profile is
// about — verbs, adjectives, adverbs, numerals, pronouns and particles
// (拨付, 尚无, 甚至, 四千) — weighed at functionWeight as key terms, unless
// they are medical words (狭窄).
var function = map[string]bool{"v": true, "a": true, "ad": true, "d": true, "m": true, "mq": true, "q": true,
	"r": true, "p": true, "c": true, "u": true, "f": true, "t": true, "l": true, "i": true}

const functionWeight = 0.3

var (
	medOnce sync.Once
	medSet  map[string]bool
)

// medical is the set of the dictionary's medical words, lower-cased.
func medical() map[string]bool {
	medOnce.Do(func() {
		lex := dict.Lexicon()
		medSet = make(map[string]bool, len(lex))
		for _, t := range lex {
			medSet[strings.ToLower(t.Word)] = true
		}
	})
	return medSet
}

// matchedTerms lists the key terms found in r's text.
func matchedTerms(terms []indexer.WeightedTerm, r medmatch.Record) []string {
	var b strings.Builder
	for _, f := range r.Text() {
		b.WriteString(strings.ToLower(f.Value))
		b.WriteByte('\n')
	}
	text := b.String()
	out := []string{}
	for _, t := range terms {
		if strings.Contains(text, t.Term) {
			out = append(out, t.Term)
		}
	}
	return out
}
