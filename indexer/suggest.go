package indexer

import (
	"context"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/mozillazg/go-pinyin"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/dict"
)

// Suggestions complete what is typed in the search box: prefixes of record
// titles, institution names and dictionary terms, matched on the text
// itself, on its full pinyin (naoqibo → 脑起搏器) and on its pinyin
// initials (nqbq). They are held in memory beside the index and follow
// the same change feed; a record's title is suggested only to viewers who
// may read the record.
//
// Pinyin comes from github.com/mozillazg/go-pinyin: maintained, MIT, a
// port of python-pinyin with its phrase-aware dictionary, and no cgo.

// Suggestion is one completion.
type Suggestion struct {
	Text string `json:"text"`
	Kind string `json:"type"`         // term, institution, or a record kind
	ID   string `json:"id,omitempty"` // for records
}

// Suggest limits.
const (
	DefaultSuggestLimit = 8
	MaxSuggestLimit     = 20
	maxSuggestPrefix    = 64 // characters
	suggestScan         = 2000
)

type sEntry struct {
	text, kind, id string
	weight         float64
	aud            []string // nil: everyone
	dead           bool
}

// Key types, best first: a match on the text beats one on pinyin.
const (
	keyText = iota
	keyPinyin
	keyInitials
)

type sKey struct {
	key string
	typ int
	e   *sEntry
}

type suggester struct {
	cmu   sync.Mutex
	cache map[string][]Suggestion // short, costly prefixes; cleared on every change

	mu      sync.RWMutex
	loading bool                  // records are being loaded: updates wait in pending
	pending map[medmatch.Ref]bool // refs changed while loading
	ready   chan struct{}         // closed when the records are loaded
	keys    []sKey                // sorted by key
	entries map[string]*sEntry    // record "kind/id" or "term:text" → entry
	insts   map[string]map[string][]string
}

func newSuggester() *suggester {
	s := &suggester{entries: map[string]*sEntry{}, insts: map[string]map[string][]string{}, ready: make(chan struct{})}
	close(s.ready)
	return s
}

// loadAsync loads the dictionary terms and the store's records in the
// background, so that opening or building an index does not wait for a
// scan of the whole store and the pinyin of every title. Changes
// applied meanwhile are remembered and re-read afterwards, so the newest
// state wins.
func (s *suggester) loadAsync(ctx context.Context, store medmatch.Store, log interface{ Error(string, ...any) }) {
	s.mu.Lock()
	s.loading, s.pending, s.ready = true, map[medmatch.Ref]bool{}, make(chan struct{})
	ready := s.ready
	s.mu.Unlock()
	go func() {
		defer close(ready)
		if err := s.loadTerms(); err != nil {
			log.Error("load suggestions", "err", err)
		}
		var refs []medmatch.Ref
		var recs []medmatch.Record
		_, err := store.Scan(ctx, func(r medmatch.Record) error {
			refs = append(refs, medmatch.Ref{Kind: r.Kind(), ID: r.Base().ID})
			recs = append(recs, r)
			return nil
		})
		if err != nil {
			if ctx.Err() == nil { // not a shutdown
				log.Error("load suggestions", "err", err)
			}
		} else {
			s.applyRecords(refs, recs)
		}
		for {
			s.mu.Lock()
			p := s.pending
			s.pending = nil
			if len(p) == 0 {
				s.loading = false
				s.mu.Unlock()
				return
			}
			s.pending = map[medmatch.Ref]bool{}
			s.mu.Unlock()
			refs = refs[:0]
			for r := range p {
				refs = append(refs, r)
			}
			recs, err := store.GetMany(ctx, medmatch.System, refs)
			if err != nil {
				if ctx.Err() == nil {
					log.Error("load suggestions", "err", err)
				}
				continue
			}
			s.applyRecords(refs, recs)
		}
	}()
}

var pyArgs = func() pinyin.Args {
	a := pinyin.NewArgs()
	a.Style = pinyin.Normal
	return a
}()

// keysOf returns the lower-cased text, its full pinyin and its initials.
// Han characters become pinyin; letters and digits stay; the rest goes.
func keysOf(text string) (string, string, string) {
	lower := strings.ToLower(strings.TrimSpace(text))
	var full, init strings.Builder
	for _, r := range lower {
		switch {
		case unicode.Is(unicode.Han, r):
			if py := pinyin.SinglePinyin(r, pyArgs); len(py) > 0 && py[0] != "" {
				full.WriteString(py[0])
				init.WriteByte(py[0][0])
			}
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			full.WriteRune(r)
			init.WriteRune(r)
		}
	}
	return lower, full.String(), init.String()
}

func entryKeys(e *sEntry) []sKey {
	text, full, init := keysOf(e.text)
	out := []sKey{{text, keyText, e}}
	if full != "" && full != text {
		out = append(out, sKey{full, keyPinyin, e})
	}
	if init != "" && init != full && utf8.RuneCountInString(init) >= 2 {
		out = append(out, sKey{init, keyInitials, e})
	}
	return out
}

// apply removes the entries named by removed and adds added, merging the
// new keys into the sorted list in one pass (no re-sort of the whole list).
func (s *suggester) apply(removed []string, added map[string]*sEntry) {
	var fresh []sKey
	for _, e := range added {
		fresh = append(fresh, entryKeys(e)...)
	}
	sort.Slice(fresh, func(i, j int) bool { return fresh[i].key < fresh[j].key })
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range removed {
		if e := s.entries[k]; e != nil {
			e.dead = true
			delete(s.entries, k)
		}
	}
	for k, e := range added {
		if old := s.entries[k]; old != nil {
			old.dead = true
		}
		s.entries[k] = e
	}
	merged := make([]sKey, 0, len(s.keys)+len(fresh))
	i, j := 0, 0
	for i < len(s.keys) || j < len(fresh) {
		if i < len(s.keys) && s.keys[i].e.dead {
			i++
			continue
		}
		if j >= len(fresh) || i < len(s.keys) && s.keys[i].key <= fresh[j].key {
			merged = append(merged, s.keys[i])
			i++
		} else {
			merged = append(merged, fresh[j])
			j++
		}
	}
	s.keys = merged
	s.cmu.Lock()
	s.cache = nil
	s.cmu.Unlock()
}

func recordKey(k medmatch.Kind, id string) string { return string(k) + "/" + id }

// update reflects records (nil: deleted) named by refs.
func (s *suggester) update(refs []medmatch.Ref, recs []medmatch.Record) {
	s.mu.Lock()
	if s.loading {
		for _, r := range refs {
			s.pending[r] = true
		}
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.applyRecords(refs, recs)
}

func (s *suggester) applyRecords(refs []medmatch.Ref, recs []medmatch.Record) {
	var removed []string
	added := map[string]*sEntry{}
	touched := map[string]bool{}
	s.mu.Lock()
	for i, ref := range refs {
		key := recordKey(ref.Kind, ref.ID)
		removed = append(removed, key)
		for name, refs := range s.insts {
			if _, ok := refs[key]; ok {
				delete(refs, key)
				touched[name] = true
			}
		}
		r := recs[i]
		if r == nil {
			continue
		}
		added[key] = &sEntry{text: r.Text()[0].Value, kind: string(r.Kind()), id: ref.ID, weight: 3, aud: r.Audience()}
		if inst := institutionOf(r); inst != "" {
			if s.insts[inst] == nil {
				s.insts[inst] = map[string][]string{}
			}
			s.insts[inst][key] = r.Audience()
			touched[inst] = true
		}
	}
	for name := range touched {
		tk := "institution:" + name
		removed = append(removed, tk)
		if e := s.instEntry(name); e != nil {
			added[tk] = e
		}
	}
	s.mu.Unlock()
	s.apply(removed, added)
}

// instEntry is an institution's suggestion: visible to whoever may read
// one of its records. Called with s.mu held.
func (s *suggester) instEntry(name string) *sEntry {
	refs := s.insts[name]
	if len(refs) == 0 {
		delete(s.insts, name)
		return nil
	}
	aud := map[string]bool{}
	for _, a := range refs {
		for _, p := range a {
			aud[p] = true
		}
	}
	e := &sEntry{text: name, kind: "institution", weight: 2 + math.Log10(float64(len(refs))), aud: []string{}}
	for p := range aud {
		e.aud = append(e.aud, p)
	}
	sort.Strings(e.aud)
	return e
}

func institutionOf(r medmatch.Record) string {
	switch r := r.(type) {
	case *medmatch.Achievement:
		return r.Institution
	case *medmatch.ClinicalNeed:
		return r.Hospital
	case *medmatch.Team:
		return r.Institution
	}
	return ""
}

var (
	termOnce    sync.Once
	termEntries map[string]*sEntry
	termKeys    []sKey // sorted
	termErr     error
)

// dictTerms computes, once per process, the suggestions of the dictionary:
// specialty and field labels, synonym terms and the medical lexicon, with
// their sorted keys (pinyin of 20,000 words is worth computing once).
func dictTerms() (map[string]*sEntry, []sKey, error) {
	termOnce.Do(func() {
		termEntries = map[string]*sEntry{}
		add := func(t string, w float64) {
			t = strings.TrimSpace(t)
			if utf8.RuneCountInString(t) < 2 {
				return
			}
			if e, ok := termEntries["term:"+t]; ok {
				e.weight = math.Max(e.weight, w)
				return
			}
			termEntries["term:"+t] = &sEntry{text: t, kind: "term", weight: w}
		}
		tax, err := dict.Taxonomy()
		if err != nil {
			termErr = err
			return
		}
		for _, v := range []*medmatch.Vocabulary{tax.Specialties, tax.Fields} {
			for _, l := range v.Labels() {
				add(l, 5)
			}
		}
		groups, err := dict.Synonyms()
		if err != nil {
			termErr = err
			return
		}
		for _, g := range groups {
			for _, t := range g {
				add(t, 4)
			}
		}
		for _, t := range dict.Lexicon() {
			add(t.Word, math.Min(4, math.Log10(float64(t.Freq)+10)))
		}
		for _, e := range termEntries {
			termKeys = append(termKeys, entryKeys(e)...)
		}
		sort.Slice(termKeys, func(i, j int) bool { return termKeys[i].key < termKeys[j].key })
	})
	return termEntries, termKeys, termErr
}

// loadTerms adds the dictionary's terms. Their entries are shared by every
// suggester of the process and never removed.
func (s *suggester) loadTerms() error {
	entries, keys, err := dictTerms()
	if err != nil {
		return err
	}
	s.mu.Lock()
	for k, e := range entries {
		s.entries[k] = e
	}
	merged := make([]sKey, 0, len(s.keys)+len(keys))
	i, j := 0, 0
	for i < len(s.keys) || j < len(keys) {
		if i < len(s.keys) && s.keys[i].e.dead {
			i++
			continue
		}
		if j >= len(keys) || i < len(s.keys) && s.keys[i].key <= keys[j].key {
			merged = append(merged, s.keys[i])
			i++
		} else {
			merged = append(merged, keys[j])
			j++
		}
	}
	s.keys = merged
	s.mu.Unlock()
	return nil
}

// Suggest completes prefix for viewer v.
func (ix *Index) Suggest(ctx context.Context, v medmatch.Viewer, prefix string, limit int) ([]Suggestion, error) {
	if limit == 0 {
		limit = DefaultSuggestLimit
	}
	if limit < 1 || limit > MaxSuggestLimit {
		return nil, medmatch.Errorf(medmatch.EINVALID, "limit", "must be between 1 and %d", MaxSuggestLimit)
	}
	if n := utf8.RuneCountInString(prefix); n > maxSuggestPrefix || !utf8.ValidString(prefix) {
		return nil, medmatch.Errorf(medmatch.EINVALID, "q", "prefix must be valid text of at most %d characters", maxSuggestPrefix)
	}
	ix.mu.RLock()
	s := ix.sugg
	ix.mu.RUnlock()
	if s == nil {
		return []Suggestion{}, nil
	}
	return s.suggest(v, prefix, limit), nil
}

// maxCache bounds the cache of results for short prefixes, which scan many
// keys (a one-character prefix matches thousands).
const maxCache = 10000

func (s *suggester) suggest(v medmatch.Viewer, prefix string, limit int) (out []Suggestion) {
	text, full, _ := keysOf(prefix)
	if text == "" {
		return []Suggestion{}
	}
	var ck string
	if utf8.RuneCountInString(text) <= 2 {
		ck = strings.Join(v.Principals(), ",") + "\x00" + strconv.Itoa(limit) + "\x00" + text
		if v.Staff() {
			ck = "staff\x00" + ck
		}
		s.cmu.Lock()
		cached, ok := s.cache[ck]
		s.cmu.Unlock()
		if ok {
			return cached
		}
		defer func() {
			s.cmu.Lock()
			if s.cache == nil || len(s.cache) >= maxCache {
				s.cache = map[string][]Suggestion{}
			}
			s.cache[ck] = out
			s.cmu.Unlock()
		}()
	}
	probes := []string{text}
	if full != "" && full != text {
		probes = append(probes, full) // 脑qi → naoqi
	}
	principals := v.Principals()
	visible := func(e *sEntry) bool {
		if e.aud == nil || v.Staff() {
			return true
		}
		for _, a := range e.aud {
			for _, p := range principals {
				if a == p {
					return true
				}
			}
		}
		return false
	}
	type cand struct {
		e     *sEntry
		typ   int
		exact bool
	}
	best := map[string]cand{}
	s.mu.RLock()
	for _, p := range probes {
		i := sort.Search(len(s.keys), func(i int) bool { return s.keys[i].key >= p })
		for n := 0; i < len(s.keys) && n < suggestScan && strings.HasPrefix(s.keys[i].key, p); i, n = i+1, n+1 {
			k := s.keys[i]
			if k.e.dead || !visible(k.e) {
				continue
			}
			c := cand{k.e, k.typ, len(k.key) == len(p)}
			if old, ok := best[k.e.text]; !ok || better(c.typ, c.exact, c.e.weight, old.typ, old.exact, old.e.weight) {
				best[k.e.text] = c
			}
		}
	}
	s.mu.RUnlock()
	cands := make([]cand, 0, len(best))
	for _, c := range best {
		cands = append(cands, c)
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.typ != b.typ || a.exact != b.exact || a.e.weight != b.e.weight {
			return better(a.typ, a.exact, a.e.weight, b.typ, b.exact, b.e.weight)
		}
		if la, lb := len(a.e.text), len(b.e.text); la != lb {
			return la < lb
		}
		return a.e.text < b.e.text
	})
	res := make([]Suggestion, 0, min(limit, len(cands)))
	for _, c := range cands[:min(limit, len(cands))] {
		res = append(res, Suggestion{Text: c.e.text, Kind: c.e.kind, ID: c.e.id})
	}
	out = res
	return out
}

func better(t1 int, x1 bool, w1 float64, t2 int, x2 bool, w2 float64) bool {
	if t1 != t2 {
		return t1 < t2
	}
	if x1 != x2 {
		return x1
	}
	return w1 > w2
}
