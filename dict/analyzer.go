package dict

import (
	"bytes"
	"sort"
	"unicode"
	"unicode/utf8"

	"github.com/go-ego/gse"
	"golang.org/x/text/unicode/norm"
)

// Mode selects how text is cut.
type Mode int

const (
	// Index cuts precisely and adds each word's sub-words (心肌梗死 → 心肌,
	// 梗死) at the word's position, and the hyphen-less form of codes
	// (pd-1 → pd1), so that queries for the parts find the whole.
	Index Mode = iota
	// Query cuts precisely, without sub-words: a query for 心肌梗死 asks
	// for that word, not for 心肌 or 梗死 alone.
	Query
	// Chars cuts Chinese text into single characters (Latin letters and
	// digits stay whole words, codes such as pd-1 too), without the
	// dictionary: the evidence that still matches when the words differ
	// (孕 in 怀孕, 孕期, 孕妇). Stop words are not removed: one character
	// is too little to judge.
	Chars
)

// Token is one term of analysed text.
type Token struct {
	// Term is the normalised term (NFKC, lower case).
	Term []byte
	// Start and End are byte offsets into the original, un-normalised input:
	// input[Start:End] is the text the term came from.
	Start, End int
	// Position is 1-based; sub-words share their word's position.
	Position int
	// Sub marks a sub-word or variant of the preceding word.
	Sub bool
}

// Analyzer segments Chinese medical text. It is safe for concurrent use.
type Analyzer struct {
	seg   *gse.Segmenter
	stop  map[string]bool
	words int
}

// Words is the number of words in the segmenter's dictionary.
func (a *Analyzer) Words() int { return a.words }

// IsStop reports whether term is a stop word.
func (a *Analyzer) IsStop(term string) bool { return a.stop[term] }

// Tokens analyses input. Punctuation, spaces and stop words produce no
// token; a punctuation mark or line break leaves a gap of one position, so
// phrases do not match across sentence boundaries, while a removed stop word
// leaves none (in Chinese, 治疗的方法 should match the phrase 治疗方法).
func (a *Analyzer) Tokens(input []byte, mode Mode) []Token {
	if len(input) == 0 {
		return nil
	}
	text, offs := normalize(input)
	orig := func(s, e int) (int, int) {
		if offs == nil {
			return s, e
		}
		return offs.start(s), offs.end(e)
	}
	if mode == Chars {
		return chars(text, orig)
	}
	segs := a.seg.Segment(text)
	out := make([]Token, 0, len(segs)+len(segs)/2)
	pos := 0
	gap := false
	for i := 0; i < len(segs); i++ {
		s, e := segs[i].Start(), segs[i].End()
		// Keep codes whole: alnum ('-' | '.') alnum … with nothing between.
		code := false
		if isAlnumRun(text[s:e]) {
			for i+2 < len(segs) && isJoiner(text[segs[i+1].Start():segs[i+1].End()]) && isAlnumRun(text[segs[i+2].Start():segs[i+2].End()]) {
				e = segs[i+2].End()
				i += 2
				code = true
			}
		}
		term := text[s:e]
		if !hasWordRune(term) {
			if pos > 0 && isBreak(term) {
				gap = true
			}
			continue
		}
		if a.stop[string(term)] {
			continue
		}
		pos++
		if gap {
			pos++
			gap = false
		}
		os, oe := orig(s, e)
		out = append(out, Token{Term: term, Start: os, End: oe, Position: pos})
		if mode != Index {
			continue
		}
		if code || isCode(term) {
			if v := dehyphen(term); v != nil {
				out = append(out, Token{Term: v, Start: os, End: oe, Position: pos, Sub: true})
			}
			continue
		}
		out = a.subwords(out, text, segs[i].Token(), s, pos, orig)
	}
	return out
}

// chars cuts normalised text into single Han (and other non-Latin letter)
// characters and whole runs of Latin letters and digits, joined by '-' or
// '.' into codes as in word mode. Punctuation leaves a gap of one position.
func chars(text []byte, orig func(int, int) (int, int)) []Token {
	out := make([]Token, 0, len(text)/3+1)
	pos := 0
	gap := false
	emit := func(s, e int) {
		pos++
		if gap {
			pos++
			gap = false
		}
		os, oe := orig(s, e)
		out = append(out, Token{Term: text[s:e], Start: os, End: oe, Position: pos})
	}
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			if isASCIIAlnum(c) {
				j := i + 1
				for j < len(text) {
					if isASCIIAlnum(text[j]) {
						j++
					} else if (text[j] == '-' || text[j] == '.') && j+1 < len(text) && isASCIIAlnum(text[j+1]) {
						j += 2
					} else {
						break
					}
				}
				emit(i, j)
				i = j
				continue
			}
			if pos > 0 && isBreak(text[i:i+1]) {
				gap = true
			}
			i++
			continue
		}
		r, w := utf8.DecodeRune(text[i:])
		switch {
		case unicode.IsLetter(r) || unicode.IsNumber(r):
			emit(i, i+w)
		case pos > 0 && isBreak(text[i:i+w]):
			gap = true
		}
		i += w
	}
	return out
}

func isASCIIAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z'
}

// subwords appends the search-mode sub-words of tok (which starts at byte
// base of text), recursively; gse gives their offsets relative to the parent.
func (a *Analyzer) subwords(out []Token, text []byte, tok *gse.Token, base, pos int, orig func(int, int) (int, int)) []Token {
	for _, sub := range tok.Segments() {
		s, e := base+sub.Start(), base+sub.End()
		term := text[s:e]
		if utf8.RuneCount(term) < 2 {
			// Single characters would match nearly every document; a query
			// for one character still finds words that are one character.
			continue
		}
		if hasWordRune(term) && !a.stop[string(term)] {
			os, oe := orig(s, e)
			out = append(out, Token{Term: term, Start: os, End: oe, Position: pos, Sub: true})
		}
		out = a.subwords(out, text, sub.Token(), s, pos, orig)
	}
	return out
}

// Terms returns the query-mode terms of s as strings.
func (a *Analyzer) Terms(s string) []string {
	toks := a.Tokens([]byte(s), Query)
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = string(t.Term)
	}
	return out
}

// offsetMap maps byte offsets of normalised text back to the original.
// Text maps byte for byte except in the changed segments it lists (a
// full-width comma, 3 bytes, becomes ',', 1 byte): an offset inside a
// changed segment maps to the segment's start (or end), and one between
// segments shifts by the length difference accumulated so far. Most text
// has few changed segments, so this costs far less than a per-byte table.
type offsetMap struct {
	segs []changed
}

type changed struct{ ns, ne, os, oe int } // normalised [ns,ne) came from original [os,oe)

func (m *offsetMap) add(ns, ne, os, oe int) { m.segs = append(m.segs, changed{ns, ne, os, oe}) }

// start maps the offset where a token starts.
func (m *offsetMap) start(p int) int {
	i := sort.Search(len(m.segs), func(i int) bool { return m.segs[i].ne > p })
	if i < len(m.segs) && m.segs[i].ns <= p {
		return m.segs[i].os
	}
	return p + m.delta(i)
}

// end maps the (exclusive) offset where a token ends.
func (m *offsetMap) end(p int) int {
	i := sort.Search(len(m.segs), func(i int) bool { return m.segs[i].ne >= p })
	if i < len(m.segs) && m.segs[i].ns < p {
		return m.segs[i].oe
	}
	return p + m.delta(i)
}

// delta is the shift after the first i changed segments.
func (m *offsetMap) delta(i int) int {
	if i == 0 {
		return 0
	}
	s := m.segs[i-1]
	return s.oe - s.ne
}

// normalize returns the NFKC, lower-cased form of in and, when that differs
// in length anywhere, the map back to in's offsets (nil: identical offsets).
// Invalid UTF-8 bytes are kept as they are, each on its own, so valid text
// on either side normalises as it would alone.
func normalize(in []byte) ([]byte, *offsetMap) {
	if norm.NFKC.QuickSpan(in) == len(in) && !hasUpper(in) && utf8.Valid(in) {
		return in, nil
	}
	out := make([]byte, 0, len(in)+8)
	var m offsetMap
	for i := 0; i < len(in); {
		j := i
		for j < len(in) {
			if in[j] < utf8.RuneSelf {
				j++
				continue
			}
			r, w := utf8.DecodeRune(in[j:])
			if r == utf8.RuneError && w == 1 {
				break
			}
			j += w
		}
		out = normalizeValid(out, &m, in[i:j], i)
		if j < len(in) {
			out = append(out, in[j])
			j++
		}
		i = j
	}
	if len(m.segs) == 0 {
		return out, nil
	}
	return out, &m
}

// normalizeValid appends the normalised form of valid UTF-8 text, which
// starts at byte base of the input, recording changed segments in m.
func normalizeValid(out []byte, m *offsetMap, in []byte, base int) []byte {
	var scratch []byte
	for i := 0; i < len(in); {
		// A prefix already in NFKC: only lower-case it.
		j := i + norm.NFKC.QuickSpan(in[i:])
		for k := i; k < j; {
			c := in[k]
			if c < utf8.RuneSelf {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				out = append(out, c)
				k++
				continue
			}
			r, w := utf8.DecodeRune(in[k:])
			if lr := unicode.ToLower(r); lr != r {
				ns := len(out)
				out = utf8.AppendRune(out, lr)
				if len(out)-ns != w {
					m.add(ns, len(out), base+k, base+k+w)
				}
			} else {
				out = append(out, in[k:k+w]...)
			}
			k += w
		}
		if j >= len(in) {
			break
		}
		// One normalisation segment that changes.
		n := norm.NFKC.NextBoundary(in[j:], true)
		if n <= 0 {
			n = len(in) - j
		}
		scratch = norm.NFKC.Append(scratch[:0], in[j:j+n]...)
		ns := len(out)
		for p := 0; p < len(scratch); {
			r, w := utf8.DecodeRune(scratch[p:])
			out = utf8.AppendRune(out, unicode.ToLower(r))
			p += w
		}
		if !bytes.Equal(out[ns:], in[j:j+n]) {
			m.add(ns, len(out), base+j, base+j+n)
		}
		i = j + n
	}
	return out
}

func hasUpper(b []byte) bool {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			if 'A' <= b[i] && b[i] <= 'Z' {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if unicode.IsUpper(r) {
			return true
		}
		i += n
	}
	return false
}

func isAlnumRun(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// isCode reports whether term is a Latin/digit code such as pd-1 or 3.0t.
func isCode(term []byte) bool {
	alnum := false
	for _, c := range term {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			alnum = true
		case c == '-' || c == '.':
		default:
			return false
		}
	}
	return alnum
}

func isJoiner(b []byte) bool { return len(b) == 1 && (b[0] == '-' || b[0] == '.') }

// dehyphen returns term without '-' when it has one (pd-1 → pd1), else nil.
func dehyphen(term []byte) []byte {
	var v []byte
	for i, c := range term {
		if c == '-' {
			if v == nil {
				v = append(make([]byte, 0, len(term)), term[:i]...)
			}
			continue
		}
		if v != nil {
			v = append(v, c)
		}
	}
	return v
}

func hasWordRune(b []byte) bool {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			return true
		}
		i += n
	}
	return false
}

// isBreak reports whether a non-word token ends a clause or sentence.
func isBreak(b []byte) bool {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		switch r {
		case '。', '，', '；', '：', '！', '？', '、', ',', ';', ':', '!', '?', '\n', '(', ')', '（', '）', '"', '“', '”', '《', '》', '[', ']', '【', '】':
			return true
		}
		i += n
	}
	return false
}

// POS returns the part of speech the dictionary gives word (jieba's tags:
// n noun, v verb, vn verbal noun, a adjective, d adverb, m numeral …), ""
// when the dictionary does not tag it or does not hold it.
func (a *Analyzer) POS(word string) string {
	_, pos, ok := a.seg.Find(word)
	if !ok {
		return ""
	}
	return pos
}
