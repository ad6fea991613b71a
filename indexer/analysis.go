package indexer

import (
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/registry"

	"github.com/medmatch/medmatch/dict"
)

// Names under which the gse tokenizers and analyzers are registered with
// bleve. The index mapping stores these names, so a binary that did not
// register them cannot open the index.
const (
	TokenizerIndex   = "medmatch_gse_index" // precise words plus sub-words
	TokenizerQuery   = "medmatch_gse_query" // precise words only
	TokenizerChars   = "medmatch_chars"     // single characters
	TokenizerBigrams = "medmatch_bigrams"   // pairs of characters
	AnalyzerIndex    = "medmatch_index"
	AnalyzerQuery    = "medmatch_query"
	AnalyzerChars    = "medmatch_chars"
)

var (
	analyzerMu sync.Mutex
	analyzer   *dict.Analyzer
)

// SetAnalyzer sets the dictionary analyzer the bleve tokenizers use; by
// default dict.Default() is loaded on first use. Call it before opening an
// index.
func SetAnalyzer(a *dict.Analyzer) {
	analyzerMu.Lock()
	analyzer = a
	analyzerMu.Unlock()
}

func sharedAnalyzer() (*dict.Analyzer, error) {
	analyzerMu.Lock()
	defer analyzerMu.Unlock()
	if analyzer == nil {
		a, err := dict.Default()
		if err != nil {
			return nil, err
		}
		analyzer = a
	}
	return analyzer, nil
}

// Tokenizer is a bleve tokenizer over the dict analyzer. Offsets are bytes of
// the original field text, positions are 1-based, and sub-words sit at their
// word's position.
type Tokenizer struct {
	a    *dict.Analyzer
	mode dict.Mode
}

// Tokenize implements analysis.Tokenizer.
func (t *Tokenizer) Tokenize(input []byte) analysis.TokenStream {
	toks := t.a.Tokens(input, t.mode)
	out := make(analysis.TokenStream, len(toks))
	backing := make([]analysis.Token, len(toks))
	for i, tok := range toks {
		typ := analysis.AlphaNumeric
		if r, _ := utf8.DecodeRune(tok.Term); r >= 0x2E80 {
			typ = analysis.Ideographic
		}
		backing[i] = analysis.Token{Term: tok.Term, Start: tok.Start, End: tok.End, Position: tok.Position, Type: typ}
		out[i] = &backing[i]
	}
	return out
}

func constructor(mode dict.Mode) registry.TokenizerConstructor {
	return func(config map[string]interface{}, cache *registry.Cache) (analysis.Tokenizer, error) {
		a, err := sharedAnalyzer()
		if err != nil {
			return nil, fmt.Errorf("indexer: load dictionary: %w", err)
		}
		return &Tokenizer{a: a, mode: mode}, nil
	}
}

func init() {
	for name, mode := range map[string]dict.Mode{TokenizerIndex: dict.Index, TokenizerQuery: dict.Query, TokenizerChars: dict.Chars} {
		if err := registry.RegisterTokenizer(name, constructor(mode)); err != nil {
			panic(err)
		}
	}
}

// customAnalyzers are added to every index mapping.
var customAnalyzers = map[string]map[string]interface{}{
	AnalyzerIndex: {"type": custom.Name, "tokenizer": TokenizerIndex},
	AnalyzerQuery: {"type": custom.Name, "tokenizer": TokenizerQuery},
	AnalyzerChars: {"type": custom.Name, "tokenizer": TokenizerChars},
}
