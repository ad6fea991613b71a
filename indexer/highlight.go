package indexer

import (
	"html"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/dict"
)

// Highlights are made from the record's text as the Store holds it, cut
// again with the same analyzer that built the index: the index keeps no term
// vectors (that made bulk indexing about 25% slower) and no stored text. A
// span is marked when its term is a query term; overlapping spans (a word
// and its sub-words) are merged, the longest winning, so 心肌梗死 is marked
// whole rather than as 心肌 and 梗死.

const (
	wholeFieldRunes = 200 // fields up to this long are returned whole
	fragmentRunes   = 100 // otherwise fragments of about this length
	contextRunes    = 20  // text shown before the first match of a fragment
	maxFragments    = 3
)

type highlighter struct {
	an    *dict.Analyzer
	terms map[string]bool
	list  []string
	cjk   []string // terms without ASCII letters or digits
	latin []string // the others
}

func newHighlighter(an *dict.Analyzer, terms []string) *highlighter {
	h := &highlighter{an: an, terms: make(map[string]bool, len(terms))}
	for _, t := range terms {
		if !h.terms[t] {
			h.terms[t] = true
			h.list = append(h.list, t)
			if strings.IndexFunc(t, func(r rune) bool { return r < utf8.RuneSelf }) >= 0 {
				h.latin = append(h.latin, t)
			} else {
				h.cjk = append(h.cjk, t)
			}
		}
	}
	return h
}

// record returns the highlighted fragments of every text field of r that
// contains a query term.
func (h *highlighter) record(r medmatch.Record) map[string][]string {
	if len(h.terms) == 0 {
		return nil
	}
	var out map[string][]string
	for _, f := range r.Text() {
		if f.Value == "" {
			continue
		}
		if frags := h.field(f.Value); len(frags) > 0 {
			if out == nil {
				out = make(map[string][]string)
			}
			out[f.Name] = frags
		}
	}
	return out
}

type span struct{ start, end int }

// spans returns the merged spans of text to mark. Only the clauses (text
// between punctuation marks) that contain a query term are analysed: gse
// never joins words across punctuation, so a clause cut alone cuts as it
// does in place, and most of a long description is skipped.
func (h *highlighter) spans(text string) []span {
	var sp []span
	for start := 0; start < len(text); {
		end := clauseEnd(text, start)
		if c := text[start:end]; h.contains(c) {
			for _, t := range h.an.Tokens([]byte(c), dict.Index) {
				if h.terms[string(t.Term)] {
					sp = append(sp, span{start + t.Start, start + t.End})
				}
			}
		}
		if end < len(text) {
			_, w := utf8.DecodeRuneInString(text[end:])
			end += w
		}
		start = end
	}
	sort.Slice(sp, func(i, j int) bool {
		if sp[i].start != sp[j].start {
			return sp[i].start < sp[j].start
		}
		return sp[i].end > sp[j].end
	})
	merged := sp[:0]
	for _, s := range sp {
		if n := len(merged); n > 0 && s.start < merged[n-1].end {
			if s.end > merged[n-1].end {
				merged[n-1].end = s.end
			}
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// contains reports whether the normalised form of clause contains a query
// term as a substring (a necessary condition for a match). Terms without
// Latin letters or digits are looked for in the clause as it is: NFKC and
// lower-casing leave Chinese text alone, so only clauses that a Latin term
// could match need normalising.
func (h *highlighter) contains(clause string) bool {
	for _, t := range h.cjk {
		if strings.Contains(clause, t) {
			return true
		}
	}
	if len(h.latin) == 0 {
		return false
	}
	c := strings.ToLower(clause)
	if !norm.NFKC.IsNormalString(c) {
		c = norm.NFKC.String(c)
	}
	for _, t := range h.latin {
		if strings.Contains(c, t) {
			return true
		}
	}
	return false
}

func isClauseBreak(r rune) bool {
	switch r {
	case '。', '，', '；', '：', '！', '？', '、', '\n', '（', '）', '“', '”', '《', '》', '【', '】',
		',', ';', ':', '!', '?', '(', ')', '"':
		return true
	}
	return false
}

func clauseEnd(s string, i int) int {
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		if isClauseBreak(r) {
			return i
		}
		i += w
	}
	return len(s)
}

// field returns the fragments of text around its matches.
func (h *highlighter) field(text string) []string {
	sp := h.spans(text)
	if len(sp) == 0 {
		return nil
	}
	if utf8.RuneCountInString(text) <= wholeFieldRunes {
		return []string{render(text, 0, len(text), sp)}
	}
	var frags []string
	prevEnd := 0
	for i := 0; i < len(sp) && len(frags) < maxFragments; {
		fs := back(text, sp[i].start, contextRunes)
		if fs < prevEnd {
			fs = prevEnd
		}
		fe := forward(text, fs, fragmentRunes)
		j := i
		for j < len(sp) && sp[j].start < fe {
			if sp[j].end > fe {
				fe = sp[j].end
			}
			j++
		}
		fs, fe = snap(text, fs, sp[i].start, sp[j-1].end, fe)
		frags = append(frags, render(text, fs, fe, sp[i:j]))
		prevEnd, i = fe, j
	}
	return frags
}

// snap moves a fragment's start forward to the first clause start before
// the first match (fs ≤ start ≤ first) and its end back to just after the
// last clause break after the last match (last ≤ end ≤ fe), so fragments
// begin and end at punctuation where they can.
func snap(text string, fs, first, last, fe int) (int, int) {
	if fs > 0 {
		for i := fs; i < first; {
			r, w := utf8.DecodeRuneInString(text[i:])
			i += w
			if isClauseBreak(r) {
				fs = i
				break
			}
		}
	}
	if fe < len(text) {
		for i := fe; i > last; {
			r, w := utf8.DecodeLastRuneInString(text[:i])
			if isClauseBreak(r) {
				fe = i
				break
			}
			i -= w
		}
	}
	return fs, fe
}

// render escapes text[fs:fe] and wraps spans in <mark>; an ellipsis shows
// where text was cut.
func render(text string, fs, fe int, sp []span) string {
	var b strings.Builder
	if fs > 0 {
		b.WriteString("…")
	}
	pos := fs
	for _, s := range sp {
		b.WriteString(html.EscapeString(text[pos:s.start]))
		b.WriteString("<mark>")
		b.WriteString(html.EscapeString(text[s.start:s.end]))
		b.WriteString("</mark>")
		pos = s.end
	}
	b.WriteString(html.EscapeString(text[pos:fe]))
	if fe < len(text) {
		b.WriteString("…")
	}
	return b.String()
}

// back returns the offset n runes before i (or 0).
func back(s string, i, n int) int {
	for ; n > 0 && i > 0; n-- {
		_, w := utf8.DecodeLastRuneInString(s[:i])
		i -= w
	}
	return i
}

// forward returns the offset n runes after i (or len(s)).
func forward(s string, i, n int) int {
	for ; n > 0 && i < len(s); n-- {
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	return i
}
