package curation

import (
	"context"
	"hash/fnv"
	"math"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/longbridgeapp/opencc"
	"golang.org/x/text/unicode/norm"

	"github.com/medmatch/medmatch"
)

// Near-duplicate detection. Offices submit the same invention twice: a
// re-typed copy with sentences in another order, some words swapped for
// synonyms, the text cut short, numbers updated, or typed in traditional
// characters. A record's text (title and description; never the
// institution, which every record of that institution shares) is
// normalised — traditional to simplified characters (OpenCC t2s), NFKC,
// lower case, digits folded to one symbol, punctuation and spaces dropped —
// and cut into character 3-grams. MinHash signatures with LSH banding find
// candidate pairs; a pair is a duplicate when the overlap coefficient of
// their 3-gram sets (shared / the smaller set, so a trimmed copy still
// counts) reaches DupThreshold. The threshold is chosen on the test set in
// fixtures/dupes (see TestDuplicatesOnTestSet for precision and recall).

// DupThreshold is the overlap coefficient from which two records are
// near-duplicates.
const DupThreshold = 0.5

const (
	numHashes = 128
	bands     = 32 // 4 rows a band: pairs with similarity ~0.4 meet with probability ~0.5, 0.6 with ~0.98
	rows      = numHashes / bands
)

var (
	t2sOnce sync.Once
	t2s     *opencc.OpenCC
	t2sErr  error
)

// Normalize is the text the detector compares.
func Normalize(s string) string {
	t2sOnce.Do(func() { t2s, t2sErr = opencc.New("t2s") })
	if t2sErr == nil {
		if c, err := t2s.Convert(s); err == nil {
			s = c
		}
	}
	s = strings.ToLower(norm.NFKC.String(s))
	var b strings.Builder
	digit := false
	for _, r := range s {
		switch {
		case unicode.IsDigit(r):
			if !digit {
				b.WriteRune('#')
			}
			digit = true
			continue
		case unicode.IsLetter(r):
			b.WriteRune(r)
		}
		digit = false
	}
	return b.String()
}

// Shingles are the distinct character 3-grams of a normalised text.
func Shingles(s string) map[uint64]bool {
	r := []rune(s)
	out := make(map[uint64]bool, len(r))
	h := fnv.New64a()
	for i := 0; i+3 <= len(r); i++ {
		h.Reset()
		h.Write([]byte(string(r[i : i+3])))
		out[h.Sum64()] = true
	}
	return out
}

// Overlap is the overlap coefficient of two shingle sets.
func Overlap(a, b map[uint64]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	n := 0
	for x := range a {
		if b[x] {
			n++
		}
	}
	return float64(n) / float64(len(a))
}

// hash seeds of the MinHash permutations (fixed, so signatures are
// stable between runs).
var seeds = func() [numHashes]uint64 {
	var out [numHashes]uint64
	x := uint64(0x9e3779b97f4a7c15)
	for i := range out {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		out[i] = x | 1
	}
	return out
}()

func signature(sh map[uint64]bool) [numHashes]uint64 {
	var sig [numHashes]uint64
	for i := range sig {
		sig[i] = math.MaxUint64
	}
	for x := range sh {
		for i, s := range seeds {
			h := (x ^ s) * 0xff51afd7ed558ccd
			h ^= h >> 33
			if h < sig[i] {
				sig[i] = h
			}
		}
	}
	return sig
}

// Doc is one record as the detector sees it.
type Doc struct {
	Ref         medmatch.Ref `json:"ref"`
	Title       string       `json:"title"`
	Institution string       `json:"institution"`
	shingles    map[uint64]bool
	sig         [numHashes]uint64
}

// DupIndex finds near-duplicates among the records added to it.
type DupIndex struct {
	docs    []*Doc
	buckets []map[uint64][]int // per band: band hash → docs
}

// NewDupIndex returns an empty index.
func NewDupIndex() *DupIndex {
	ix := &DupIndex{buckets: make([]map[uint64][]int, bands)}
	for i := range ix.buckets {
		ix.buckets[i] = map[uint64][]int{}
	}
	return ix
}

// TextOf is the text of a record the detector compares.
func TextOf(r medmatch.Record) (title, text, owner string, ok bool) {
	switch r := r.(type) {
	case *medmatch.Achievement:
		return r.Title, r.Title + "\n" + r.Summary + "\n" + r.Description, r.Institution, true
	case *medmatch.ClinicalNeed:
		return r.Title, r.Title + "\n" + r.Problem + "\n" + r.DesiredOutcome, r.Hospital, true
	}
	return "", "", "", false
}

// NewDoc prepares a record for the index (achievements and clinical needs).
func NewDoc(r medmatch.Record) (*Doc, bool) {
	title, text, owner, ok := TextOf(r)
	if !ok {
		return nil, false
	}
	d := &Doc{Ref: medmatch.Ref{Kind: r.Kind(), ID: r.Base().ID}, Title: title, Institution: owner}
	d.shingles = Shingles(Normalize(text))
	d.sig = signature(d.shingles)
	return d, true
}

func bandKey(sig *[numHashes]uint64, b int) uint64 {
	h := fnv.New64a()
	var buf [8]byte
	for _, v := range sig[b*rows : (b+1)*rows] {
		for i := range buf {
			buf[i] = byte(v >> (8 * i))
		}
		h.Write(buf[:])
	}
	return h.Sum64()
}

// Add puts a document into the index.
func (ix *DupIndex) Add(d *Doc) {
	n := len(ix.docs)
	ix.docs = append(ix.docs, d)
	for b := range bands {
		k := bandKey(&d.sig, b)
		ix.buckets[b][k] = append(ix.buckets[b][k], n)
	}
}

// Match is a near-duplicate of a document.
type Match struct {
	Doc     *Doc    `json:"doc"`
	Overlap float64 `json:"overlap"`
}

// Similar returns the indexed documents of d's kind that are
// near-duplicates of it (not d itself), most similar first.
func (ix *DupIndex) Similar(d *Doc) []Match {
	seen := map[int]bool{}
	var out []Match
	for b := range bands {
		for _, i := range ix.buckets[b][bandKey(&d.sig, b)] {
			if seen[i] {
				continue
			}
			seen[i] = true
			o := ix.docs[i]
			if o.Ref == d.Ref || o.Ref.Kind != d.Ref.Kind {
				continue
			}
			if ov := Overlap(d.shingles, o.shingles); ov >= DupThreshold {
				out = append(out, Match{Doc: o, Overlap: math.Round(ov*1000) / 1000})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Overlap != out[j].Overlap {
			return out[i].Overlap > out[j].Overlap
		}
		return out[i].Doc.Ref.ID < out[j].Doc.Ref.ID
	})
	return out
}

// Pair is a suspected duplicate pair.
type Pair struct {
	A       *Doc    `json:"a"`
	B       *Doc    `json:"b"`
	Overlap float64 `json:"overlap"`
}

// Duplicates reads every achievement and clinical need v may read and
// returns the suspected near-duplicate pairs, most similar first.
func Duplicates(ctx context.Context, s medmatch.Store, v medmatch.Viewer) ([]Pair, error) {
	if !v.Staff() {
		if v.Anonymous() {
			return nil, medmatch.Errorf(medmatch.EUNAUTHORIZED, "", "an organizer key is needed to look for duplicates")
		}
		return nil, medmatch.Errorf(medmatch.EFORBIDDEN, "", "duplicates are reviewed by organizers")
	}
	ix := NewDupIndex()
	_, err := s.Scan(ctx, func(r medmatch.Record) error {
		if d, ok := NewDoc(r); ok && medmatch.CanRead(v, r) {
			ix.Add(d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := []Pair{}
	for _, d := range ix.docs {
		for _, m := range ix.Similar(d) {
			if d.Ref.ID < m.Doc.Ref.ID {
				out = append(out, Pair{A: d, B: m.Doc, Overlap: m.Overlap})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Overlap > out[j].Overlap })
	return out, nil
}
