// Package dict holds the segmentation dictionaries of medmatch, embedded in
// the binary, and the analyzer built on them with gse: normalisation (NFKC,
// lower-case), segmentation with byte offsets into the original text, codes
// such as PD-1 kept whole, search-mode sub-words, and stop words. It also
// provides the controlled vocabularies (specialties, fields) and the medical
// synonym groups.
//
// Sources and licences of the files are in README.md in this folder.
package dict

import (
	"bufio"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/go-ego/gse"

	"github.com/medmatch/medmatch"
)

//go:embed terms.txt synonyms.txt stopwords.txt specialties.txt fields.txt thuocl/THUOCL_medical.txt general/words.txt
var files embed.FS

var (
	versionOnce sync.Once
	version     string
)

// Version identifies the embedded dictionaries: a hash of every file that
// changes how text is cut or expanded. An index built with another version
// must be rebuilt.
func Version() string {
	versionOnce.Do(func() {
		h := sha256.New()
		for _, name := range []string{"terms.txt", "synonyms.txt", "stopwords.txt", "specialties.txt", "fields.txt",
			"thuocl/THUOCL_medical.txt", "general/words.txt"} {
			h.Write([]byte(name))
			h.Write([]byte(read(name)))
		}
		version = hex.EncodeToString(h.Sum(nil))[:12]
	})
	return version
}

func read(name string) string {
	b, err := files.ReadFile(name)
	if err != nil {
		panic("dict: embedded file missing: " + name) // a build error, not a runtime one
	}
	return string(b)
}

// Options selects what Load puts into the segmenter's dictionary.
type Options struct {
	// NoGeneral leaves out the general Chinese dictionary: the medical
	// lexicon, the project's terms and the synonyms only. Loads in a tenth
	// of the time; segments everyday words into single characters. For tests.
	NoGeneral bool
}

// Frequencies given to words that come without one. They are on the scale of
// the general dictionary (corpus counts; median word ~3, 心肌梗死 83).
const (
	synonymFreq  = 3000 // synonym-group and vocabulary terms
	thuoclFloor  = 20   // lowest frequency of a THUOCL word (its DF may be 1)
	thuoclCap    = 200000
	defaultFreqG = 3
)

var (
	defaultOnce sync.Once
	defaultA    *Analyzer
	defaultErr  error
)

// Default returns the analyzer over the full embedded dictionary, loading it
// on first use (about 0.3 s). It is safe for concurrent use.
func Default() (*Analyzer, error) {
	defaultOnce.Do(func() { defaultA, defaultErr = Load(Options{}) })
	return defaultA, defaultErr
}

// Load builds a new analyzer. Prefer Default: a gse segmenter holds about
// 40 MB, and creating one while another segments is a data race in gse's
// shared HMM model (we do not use HMM, but keep to one load per process).
func Load(opt Options) (*Analyzer, error) {
	var b strings.Builder
	seen := make(map[string]bool, 150000)
	add := func(word string, freq int, pos string) {
		word = strings.TrimSpace(word)
		if word == "" || strings.ContainsAny(word, " \t") {
			return
		}
		key := strings.ToLower(word)
		if seen[key] {
			return
		}
		seen[key] = true
		if freq < 2 {
			freq = 2 // gse silently drops words with freq < 2
		}
		fmt.Fprintf(&b, "%s %d %s\n", word, freq, pos)
	}
	// Order matters: the first frequency given for a word wins.
	if err := eachLine("terms.txt", func(line string) error {
		f := strings.Fields(line)
		if len(f) != 3 {
			return fmt.Errorf("want 'word freq pos'")
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			return fmt.Errorf("freq %q: %w", f[1], err)
		}
		add(f[0], n, f[2])
		return nil
	}); err != nil {
		return nil, err
	}
	if err := eachLine("thuocl/THUOCL_medical.txt", func(line string) error {
		word, df, ok := strings.Cut(line, "\t")
		if !ok {
			return fmt.Errorf("want 'word<TAB>df'")
		}
		n, err := strconv.Atoi(strings.TrimSpace(df))
		if err != nil {
			return fmt.Errorf("df %q: %w", df, err)
		}
		add(word, min(max(n, thuoclFloor), thuoclCap), "n")
		return nil
	}); err != nil {
		return nil, err
	}
	syn, err := Synonyms()
	if err != nil {
		return nil, err
	}
	for _, g := range syn {
		for _, w := range g {
			add(w, synonymFreq, "n")
		}
	}
	tax, err := Taxonomy()
	if err != nil {
		return nil, err
	}
	for _, v := range []*medmatch.Vocabulary{tax.Specialties, tax.Fields} {
		for _, l := range v.Labels() {
			add(l, synonymFreq, "n")
		}
	}
	if !opt.NoGeneral {
		if err := eachLine("general/words.txt", func(line string) error {
			f := strings.Fields(line)
			if len(f) < 2 {
				return fmt.Errorf("want 'word freq [pos]'")
			}
			n, err := strconv.Atoi(f[1])
			if err != nil {
				return fmt.Errorf("freq %q: %w", f[1], err)
			}
			pos := ""
			if len(f) > 2 {
				pos = f[2]
			}
			add(f[0], n, pos)
			return nil
		}); err != nil {
			return nil, err
		}
	}

	seg := new(gse.Segmenter)
	seg.SkipLog = true
	if err := seg.LoadDictStr(b.String()); err != nil {
		return nil, fmt.Errorf("dict: load segmenter dictionary: %w", err)
	}
	stop := make(map[string]bool)
	if err := eachLine("stopwords.txt", func(line string) error {
		stop[strings.ToLower(strings.TrimSpace(line))] = true
		return nil
	}); err != nil {
		return nil, err
	}
	return &Analyzer{seg: seg, stop: stop, words: len(seen)}, nil
}

// eachLine calls fn for each non-empty, non-comment line of an embedded file.
func eachLine(name string, fn func(string) error) error {
	sc := bufio.NewScanner(strings.NewReader(read(name)))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("dict: %s:%d: %w", name, n, err)
		}
	}
	return sc.Err()
}

// Term is a dictionary word and its frequency.
type Term struct {
	Word string
	Freq int
}

var (
	lexOnce sync.Once
	lexicon []Term
)

// Lexicon returns the medical words of the dictionary (the project's terms
// and the THUOCL medical lexicon) with their frequencies, for suggestions.
func Lexicon() []Term {
	lexOnce.Do(func() {
		_ = eachLine("terms.txt", func(line string) error {
			if f := strings.Fields(line); len(f) == 3 {
				n, _ := strconv.Atoi(f[1])
				lexicon = append(lexicon, Term{f[0], n})
			}
			return nil
		})
		_ = eachLine("thuocl/THUOCL_medical.txt", func(line string) error {
			if w, df, ok := strings.Cut(line, "\t"); ok {
				n, _ := strconv.Atoi(strings.TrimSpace(df))
				lexicon = append(lexicon, Term{w, n})
			}
			return nil
		})
	})
	return lexicon
}

var (
	synOnce  sync.Once
	synonyms [][]string
	synErr   error
)

// Synonyms returns the medical synonym groups, preferred term first. A term
// belongs to at most one group.
func Synonyms() ([][]string, error) {
	synOnce.Do(func() {
		seen := make(map[string]int)
		synErr = eachLine("synonyms.txt", func(line string) error {
			var g []string
			for _, t := range strings.Split(line, ",") {
				if t = strings.TrimSpace(t); t != "" {
					g = append(g, t)
				}
			}
			if len(g) < 2 {
				return fmt.Errorf("a group needs at least two terms")
			}
			for _, t := range g {
				k := strings.ToLower(t)
				if prev, ok := seen[k]; ok {
					return fmt.Errorf("%q is already in group %d", t, prev+1)
				}
				seen[k] = len(synonyms)
			}
			synonyms = append(synonyms, g)
			return nil
		})
	})
	return synonyms, synErr
}

var (
	taxOnce sync.Once
	tax     *medmatch.Taxonomy
	taxErr  error
)

// Taxonomy returns the controlled vocabularies of specialties and fields.
func Taxonomy() (*medmatch.Taxonomy, error) {
	taxOnce.Do(func() {
		var t medmatch.Taxonomy
		if t.Specialties, taxErr = vocabulary("specialty", "specialties.txt"); taxErr != nil {
			return
		}
		if t.Fields, taxErr = vocabulary("field", "fields.txt"); taxErr != nil {
			return
		}
		tax = &t
	})
	return tax, taxErr
}

// MustTaxonomy is Taxonomy for callers that cannot go on without it; the
// files are embedded and checked by tests, so it panics only on a bad build.
func MustTaxonomy() *medmatch.Taxonomy {
	t, err := Taxonomy()
	if err != nil {
		panic(err)
	}
	return t
}

func vocabulary(name, file string) (*medmatch.Vocabulary, error) {
	var labels []string
	syn := make(map[string][]string)
	err := eachLine(file, func(line string) error {
		label, rest, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("want 'label: synonym,synonym'")
		}
		label = strings.TrimSpace(label)
		labels = append(labels, label)
		for _, s := range strings.Split(rest, ",") {
			if s = strings.TrimSpace(s); s != "" {
				syn[label] = append(syn[label], s)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	v, err := medmatch.NewVocabulary(name, labels, syn)
	if err != nil {
		return nil, fmt.Errorf("dict: %s: %w", file, err)
	}
	return v, nil
}
