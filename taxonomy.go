package medmatch

import (
	"fmt"
	"strings"
)

// Vocabulary is a controlled list of Chinese labels, each with synonyms that
// normalise to it (心内科 → 心血管). The lists live in package dict.
type Vocabulary struct {
	name   string
	labels []string
	canon  map[string]string // lower-cased label or synonym → label
}

// NewVocabulary builds a vocabulary named name from labels and their
// synonyms. It fails when a synonym is given for two labels.
func NewVocabulary(name string, labels []string, synonyms map[string][]string) (*Vocabulary, error) {
	v := &Vocabulary{name: name, canon: make(map[string]string)}
	for _, l := range labels {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if _, dup := v.canon[strings.ToLower(l)]; dup {
			return nil, fmt.Errorf("vocabulary %s: label %q listed twice", name, l)
		}
		v.labels = append(v.labels, l)
		v.canon[strings.ToLower(l)] = l
	}
	for l, syns := range synonyms {
		if _, ok := v.canon[strings.ToLower(l)]; !ok {
			return nil, fmt.Errorf("vocabulary %s: synonyms for unknown label %q", name, l)
		}
		for _, s := range syns {
			k := strings.ToLower(strings.TrimSpace(s))
			if k == "" {
				continue
			}
			if prev, ok := v.canon[k]; ok && prev != l {
				return nil, fmt.Errorf("vocabulary %s: %q maps to both %q and %q", name, s, prev, l)
			}
			v.canon[k] = l
		}
	}
	return v, nil
}

// Labels returns the labels in their defined order.
func (v *Vocabulary) Labels() []string { return append([]string(nil), v.labels...) }

// Canonical returns the label that s names (itself or a synonym).
func (v *Vocabulary) Canonical(s string) (string, bool) {
	l, ok := v.canon[strings.ToLower(strings.TrimSpace(s))]
	return l, ok
}

// Taxonomy holds the controlled vocabularies records are validated against.
type Taxonomy struct {
	Specialties *Vocabulary // clinical specialties (心血管, 神经 …)
	Fields      *Vocabulary // technology fields (医疗器械, 体外诊断 …)
}

// canonical maps s to its label when known and leaves it unchanged otherwise,
// so that Validate can name the unknown value.
func canonical(v *Vocabulary, s string) string {
	s = strings.TrimSpace(s)
	if v == nil {
		return s
	}
	if l, ok := v.Canonical(s); ok {
		return l
	}
	return s
}

func canonicalList(v *Vocabulary, xs []string) []string {
	return mapUnique(xs, func(x string) string { return canonical(v, x) })
}

func checkLabel(val *validator, voc *Vocabulary, field, s string, required bool) {
	if s == "" {
		if required {
			val.add(field, "is required (one of %s)", strings.Join(voc.labelsOrNil(), "、"))
		}
		return
	}
	if voc == nil {
		return
	}
	if _, ok := voc.canon[strings.ToLower(s)]; !ok || voc.canon[strings.ToLower(s)] != s {
		val.add(field, "unknown %s %q (want one of %s)", voc.name, s, strings.Join(voc.labels, "、"))
	}
}

func checkLabels(val *validator, voc *Vocabulary, field string, xs []string, min int) {
	if len(xs) < min {
		val.add(field, "needs at least %d item(s) (from %s)", min, strings.Join(voc.labelsOrNil(), "、"))
		return
	}
	if voc == nil {
		return
	}
	for i, s := range xs {
		if l, ok := voc.canon[strings.ToLower(s)]; !ok || l != s {
			val.add(field, "item %d: unknown %s %q (want one of %s)", i+1, voc.name, s, strings.Join(voc.labels, "、"))
		}
	}
}

func (v *Vocabulary) labelsOrNil() []string {
	if v == nil {
		return nil
	}
	return v.labels
}
