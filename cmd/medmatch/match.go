package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/matcher"
)

func init() {
	commands = append(commands,
		command{"match", "(--demand ID | --achievement ID | --need ID | --text TEXT) [flags]", "find and explain matches", runMatch},
		command{"train", "[--labels FILE] [--semantic] [flags]", "fit the semantic model and learn match weights", runTrain})
}

// matchOut is the part of a match result the CLI prints.
type matchOut struct {
	Target   medmatch.Kind `json:"target"`
	Model    string        `json:"model"`
	Weights  int64         `json:"weights_version"`
	Semantic int64         `json:"semantic_version"`
	Terms    []struct {
		Term string `json:"term"`
	} `json:"terms"`
	Matches []struct {
		Kind        medmatch.Kind       `json:"type"`
		ID          string              `json:"id"`
		Title       string              `json:"title"`
		Score       float64             `json:"score"`
		Via         *medmatch.Ref       `json:"via"`
		Explanation matcher.Explanation `json:"explanation"`
	} `json:"matches"`
}

func runMatch(ctx context.Context, std IO, args []string) error {
	var c common
	fs := newFlags("match", "(--demand ID | --achievement ID | --need ID | --text TEXT) [flags]", `
Finds the records that match a demand (achievements), an achievement
(enterprises that may be interested: organizers and the achievement's
institution only), a clinical need (achievements, teams or enterprises) or
free text (achievements or teams), and explains each score: the bias plus
each feature's value × weight, and the key terms the match contains.
Goes through the server when one runs.`, std.Err)
	c.register(fs)
	demand := fs.String("demand", "", "match this demand")
	ach := fs.String("achievement", "", "match this achievement")
	need := fs.String("need", "", "match this clinical need")
	text := fs.String("text", "", "match this free text")
	target := fs.String("target", "", "achievements, teams or enterprises (default: the source's first)")
	limit := fs.Int("limit", matcher.DefaultLimit, fmt.Sprintf("matches to show (1..%d)", matcher.MaxLimit))
	model := fs.String("model", "", "learned (default), default, bm25 or semantic")
	key := fs.String("key", os.Getenv("MEDMATCH_KEY"), "match as the owner of this API key (env MEDMATCH_KEY)")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	var src *medmatch.Ref
	n := 0
	for k, id := range map[medmatch.Kind]string{medmatch.KindDemand: *demand, medmatch.KindAchievement: *ach, medmatch.KindNeed: *need} {
		if id != "" {
			src = &medmatch.Ref{Kind: k, ID: id}
			n++
		}
	}
	if *text != "" {
		n++
	}
	if n != 1 {
		return usagef("give exactly one of --demand, --achievement, --need and --text")
	}
	req := matcher.Request{Source: src, Text: *text, Limit: *limit, Model: *model}
	if *target != "" {
		if req.Target, err = medmatch.ParseKind("target", *target); err != nil {
			return usagef("%s", describe(err))
		}
	}
	tgt, err := connect(ctx, c.data)
	if err != nil {
		return err
	}
	defer tgt.Close()
	var raw []byte
	if tgt.remote != nil {
		cl := *tgt.remote
		cl.token = *key
		var out json.RawMessage
		if src != nil {
			q := url.Values{"limit": {strconv.Itoa(*limit)}}
			if *target != "" {
				q.Set("target", *target)
			}
			if *model != "" {
				q.Set("model", *model)
			}
			err = cl.do(ctx, http.MethodGet, "/api/v1/"+src.Kind.Plural()+"/"+url.PathEscape(src.ID)+"/matches?"+q.Encode(), nil, "", &out)
		} else {
			body, _ := json.Marshal(map[string]any{"text": *text, "target": *target, "limit": *limit, "model": *model})
			err = cl.do(ctx, http.MethodPost, "/api/v1/match", bytes.NewReader(body), "application/json", &out)
		}
		if err != nil {
			return err
		}
		raw = out
	} else {
		m, v, closeIndex, err := tgt.localMatcher(ctx, c.data, *key, nil)
		if err != nil {
			return err
		}
		defer closeIndex()
		res, err := m.Match(ctx, v, req)
		if err != nil {
			return err
		}
		if raw, err = json.Marshal(res); err != nil {
			return err
		}
	}
	if *jsonOut {
		var b bytes.Buffer
		json.Indent(&b, raw, "", "  ")
		b.WriteByte('\n')
		_, err := std.Out.Write(b.Bytes())
		return err
	}
	var out matchOut
	if err := json.Unmarshal(raw, &out); err != nil {
		return err
	}
	printMatches(std.Out, &out)
	return nil
}

func printMatches(w io.Writer, out *matchOut) {
	var terms []string
	for _, t := range out.Terms {
		terms = append(terms, t.Term)
	}
	weights := "built-in"
	if out.Weights > 0 {
		weights = fmt.Sprintf("v%d", out.Weights)
	}
	sem := "none (run medmatch train)"
	if out.Semantic > 0 {
		sem = fmt.Sprintf("v%d", out.Semantic)
	}
	fmt.Fprintf(w, "%d %s matches · model %s · weights %s · semantic model %s\nkey terms: %s\n",
		len(out.Matches), out.Target, out.Model, weights, sem, strings.Join(terms, " "))
	for i, m := range out.Matches {
		via := ""
		if m.Via != nil {
			via = fmt.Sprintf(" (via %s %s)", m.Via.Kind, m.Via.ID)
		}
		fmt.Fprintf(w, "\n%2d. %.3f  %s %s  %s%s\n", i+1, m.Score, m.Kind, m.ID, m.Title, via)
		var parts []string
		for _, f := range m.Explanation.Features {
			if f.Contribution != 0 {
				parts = append(parts, fmt.Sprintf("%s %.2f×%.2f", f.Name, f.Value, f.Weight))
			}
		}
		fmt.Fprintf(w, "    bias %.2f + %s\n", m.Explanation.Bias, strings.Join(parts, " + "))
		if len(m.Explanation.Terms) > 0 {
			fmt.Fprintf(w, "    terms: %s\n", strings.Join(m.Explanation.Terms, " "))
		}
	}
}

func runTrain(ctx context.Context, std IO, args []string) error {
	var c common
	fs := newFlags("train", "[--labels FILE] [--semantic] [flags]", `
Fits the matcher and stores the result, versioned, in the store, where
every replica picks it up:
  - the semantic model (truncated randomized SVD of the TF-IDF matrix of
    the public catalogue), with --semantic or when there is none yet;
  - the feature weights, learned from the graded judgments in --labels
    (JSON lines {"query": ID, "candidate": ID, "grade": 0-3}; lines with
    "split": "test" are left out) plus every feedback entry recorded.
Goes through the server when one runs (as admin). List the stored
versions with GET /api/v1/admin/models; roll back with
POST /api/v1/admin/models/{lsa|weights}/VERSION/activate.`, std.Err)
	c.register(fs)
	labelsFile := fs.String("labels", "", "graded judgments to learn from (JSON lines)")
	semantic := fs.Bool("semantic", false, "refit the semantic model")
	k := fs.Int("k", 0, fmt.Sprintf("semantic model dimensions (1..%d, default 100)", matcher.MaxK))
	note := fs.String("note", "", "a note stored with the weights")
	maxDocs := fs.Int("max-docs", 0, "fit the semantic model on an even sample of this many records (default: all)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *k < 0 || *k > matcher.MaxK {
		return usagef("--k must be between 1 and %d", matcher.MaxK)
	}
	if *maxDocs < 0 {
		return usagef("--max-docs must not be negative")
	}
	var raw []matcher.RawLabel
	if *labelsFile != "" {
		f, err := os.Open(*labelsFile)
		if err != nil {
			return usagef("--labels: %v", err)
		}
		all, err := matcher.ReadLabels(f)
		f.Close()
		if err != nil {
			return usagef("--labels %s: %v", *labelsFile, err)
		}
		for _, l := range all {
			if l.Split != "test" {
				l.Split = ""
				raw = append(raw, l)
			}
		}
	}
	tgt, err := connect(ctx, c.data)
	if err != nil {
		return err
	}
	defer tgt.Close()
	var rep matcher.TrainReport
	if tgt.remote != nil {
		body, _ := json.Marshal(map[string]any{"labels": raw, "semantic": *semantic, "k": *k, "note": *note, "max_docs": *maxDocs})
		if err := tgt.remote.do(ctx, http.MethodPost, "/api/v1/admin/train", bytes.NewReader(body), "application/json", &rep); err != nil {
			return err
		}
	} else {
		log, err := c.logger(std.Err)
		if err != nil {
			return err
		}
		m, _, closeIndex, err := tgt.localMatcher(ctx, c.data, "", log)
		if err != nil {
			return err
		}
		defer closeIndex()
		labels, err := matcher.ResolveLabels(ctx, tgt.store, medmatch.System, raw)
		if err != nil {
			return usagef("--labels %s: %s", *labelsFile, describe(err))
		}
		r, err := m.Train(ctx, medmatch.System, matcher.TrainRequest{Labels: labels, Semantic: *semantic, K: *k, Note: *note, MaxDocs: *maxDocs})
		if err != nil {
			return err
		}
		rep = *r
	}
	if rep.SemanticVersion > 0 {
		fmt.Fprintf(std.Out, "semantic model v%d: %d terms, %d documents\n", rep.SemanticVersion, rep.SemanticTerms, rep.SemanticDocs)
	}
	if rep.WeightsVersion > 0 {
		fmt.Fprintf(std.Out, "weights v%d from %d labels and %d feedback entries over %d queries:", rep.WeightsVersion, rep.Labels, rep.Feedback, rep.Queries)
		fmt.Fprintf(std.Out, " bias %+.3f", rep.Weights.Bias)
		for i, f := range rep.Weights.Features {
			fmt.Fprintf(std.Out, ", %s %+.3f", f, rep.Weights.W[i])
		}
		fmt.Fprintln(std.Out)
	} else {
		fmt.Fprintln(std.Out, "weights unchanged: no labels and no feedback to learn from")
	}
	fmt.Fprintf(std.Out, "took %d ms\n", rep.TookMS)
	return nil
}
