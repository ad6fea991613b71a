package matcher

import (
	"encoding/json"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Weights turn a feature vector into a score: bias + weights · features.
type Weights struct {
	Features []string  `json:"features"`
	Bias     float64   `json:"bias"`
	W        []float64 `json:"weights"`
	// Version is the Store artifact version (0: built in).
	Version int64   `json:"version,omitempty"`
	L2      float64 `json:"l2,omitempty"` // the ridge it was fitted with
	Note    string  `json:"note,omitempty"`
}

// Model names: which weights rank the pool.
const (
	ModelLearned  = "learned"  // the active trained weight set (default when one exists)
	ModelDefault  = "default"  // hand-set weights over every feature
	ModelBM25     = "bm25"     // text relevance alone
	ModelSemantic = "semantic" // latent semantic similarity alone
)

// Models lists the model names.
var Models = []string{ModelBM25, ModelSemantic, ModelDefault, ModelLearned}

// DefaultWeights are hand-set: text and meaning carry the match, the
// structured fits adjust it. Trained weights replace them.
func DefaultWeights() *Weights {
	return weightsOf(map[string]float64{
		FText: 2, FSemantic: 2, FSpecialty: 0.5, FFields: 0.5, FMaturity: 0.5,
		FMode: 0.3, FBudget: 0.3, FRegion: 0.1, FRecency: 0.1,
	}, "built-in default weights")
}

func single(name string) *Weights {
	return weightsOf(map[string]float64{name: 1}, name+" alone")
}

func weightsOf(m map[string]float64, note string) *Weights {
	w := &Weights{Features: append([]string(nil), Features...), W: make([]float64, len(Features)), Note: note}
	for i, f := range Features {
		w.W[i] = m[f]
	}
	return w
}

// vec is the weights as a gonum vector in Features order.
func (w *Weights) vec() *mat.VecDense {
	return mat.NewVecDense(len(w.W), append([]float64(nil), w.W...))
}

// check verifies a decoded weight set against the features this build
// computes.
func (w *Weights) check() error {
	if len(w.Features) != len(Features) || len(w.W) != len(Features) {
		return fmt.Errorf("weights name %d features, this build computes %d", len(w.Features), len(Features))
	}
	for i, f := range Features {
		if w.Features[i] != f {
			return fmt.Errorf("weight %d is for %q, this build computes %q there", i, w.Features[i], f)
		}
	}
	for _, x := range append([]float64{w.Bias}, w.W...) {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("weights hold a non-finite number")
		}
	}
	return nil
}

func decodeWeights(data []byte) (*Weights, error) {
	var w Weights
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("matcher: decode weights: %w", err)
	}
	if err := w.check(); err != nil {
		return nil, fmt.Errorf("matcher: %w", err)
	}
	return &w, nil
}

// Contribution is one feature's part in a score.
type Contribution struct {
	Name         string  `json:"name"`
	Value        float64 `json:"value"`
	Weight       float64 `json:"weight"`
	Contribution float64 `json:"contribution"`
}

// Explanation says why a match scored as it did: Bias plus the
// contributions is the score; Terms are the source's key terms the match
// contains.
type Explanation struct {
	Bias     float64        `json:"bias"`
	Features []Contribution `json:"features"`
	Terms    []string       `json:"terms"`
}

// scoreAll scores every row of x (pool × features) with gonum and returns
// the scores.
func (w *Weights) scoreAll(x *mat.Dense) []float64 {
	r, _ := x.Dims()
	if r == 0 {
		return nil
	}
	var s mat.VecDense
	s.MulVec(x, w.vec())
	out := make([]float64, r)
	for i := range out {
		out[i] = w.Bias + s.AtVec(i)
	}
	return out
}

// explain breaks row i of x into contributions.
func (w *Weights) explain(x mat.Vector) Explanation {
	e := Explanation{Bias: w.Bias, Features: make([]Contribution, len(Features))}
	for i, f := range Features {
		v := x.AtVec(i)
		e.Features[i] = Contribution{Name: f, Value: v, Weight: w.W[i], Contribution: v * w.W[i]}
	}
	return e
}
