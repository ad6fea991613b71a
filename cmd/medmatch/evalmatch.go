package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/fixtures"
	"github.com/medmatch/medmatch/internal/matcheval"
	"github.com/medmatch/medmatch/matcher"
)

// runEvalMatch fits on the demo catalogue's training queries and reports
// every model on the test queries (or on another labelled catalogue).
func runEvalMatch(ctx context.Context, std IO, args []string) error {
	fs := newFlags("eval match", "[flags]", `
Measures the matcher. It loads the demo catalogue (fixtures/) into a
temporary store and index, fits the semantic model, learns weights on the
training queries of fixtures/labels/matches.jsonl and reports nDCG@10,
MRR@10, P@5 and the pairwise misordering rate on its test queries, for
bm25 (text relevance alone), semantic (latent semantic similarity alone),
default (built-in weights) and learned. No server and no earlier
"medmatch train" are needed.

With --catalogue DIR --labels FILE the test is another labelled catalogue:
DIR holds achievements.jsonl, enterprises.jsonl, demands.jsonl (and
optionally needs.jsonl, teams.jsonl) in the API's JSON shape; FILE holds
lines {"query": ID, "candidate": ID, "grade": 0-3} naming records by
external_id (or id). Weights are still learned on the demo catalogue's
training queries; ranking is among DIR's records only.

The table goes to standard error; standard output gets one line per model:
model=NAME ndcg@10=… mrr@10=… p@5=… misorder=… queries=N.`, std.Err)
	catalogue := fs.String("catalogue", "", "folder of a labelled catalogue to evaluate on (with --labels)")
	labelsFile := fs.String("labels", "", "graded judgments for --catalogue (JSON lines)")
	pool := fs.String("pool", "", "write the pooled top 10 of every model for every labelled or listed query to this file, for judging, and stop")
	queries := fs.String("queries", "", "with --pool: comma-separated query ids to pool (default: the labelled ones)")
	k := fs.Int("k", 0, "semantic model dimensions (default 100)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if (*catalogue == "") != (*labelsFile == "") {
		return usagef("--catalogue and --labels go together")
	}
	if *k < 0 || *k > matcher.MaxK {
		return usagef("--k must be between 1 and %d", matcher.MaxK)
	}
	start := time.Now()
	data, err := fixtures.MatchLabels()
	if err != nil {
		return err
	}
	raw, err := matcheval.ReadLabels(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("fixtures/labels/matches.jsonl: %w", err)
	}
	recs, err := fixtures.Records()
	if err != nil {
		return err
	}
	env, err := matcheval.Open(ctx, recs, *k)
	if err != nil {
		return err
	}
	defer env.Close()
	split, err := env.Resolve(raw)
	if err != nil {
		return fmt.Errorf("fixtures/labels/matches.jsonl: %w", err)
	}
	if *pool != "" {
		return writePool(ctx, std, env, split, *queries, *pool)
	}
	if len(split.Train) == 0 {
		return fmt.Errorf("fixtures/labels/matches.jsonl has no training queries")
	}
	exs, err := env.Matcher.Examples(ctx, medmatch.System, split.Train, matcheval.Target(split.Train))
	if err != nil {
		return err
	}
	w, err := matcher.FitWeights(ctx, exs, matcher.TrainOptions{})
	if err != nil {
		return err
	}
	test := env
	testLabels := split.Test
	what := fmt.Sprintf("demo catalogue, %d training and %d test judgments", len(split.Train), len(split.Test))
	if *catalogue != "" {
		crecs, err := matcheval.ReadCatalogue(*catalogue)
		if err != nil {
			return usagef("--catalogue: %v", err)
		}
		f, err := os.Open(*labelsFile)
		if err != nil {
			return usagef("--labels: %v", err)
		}
		craw, err := matcheval.ReadLabels(f)
		f.Close()
		if err != nil {
			return usagef("--labels %s: %v", *labelsFile, err)
		}
		if test, err = matcheval.Open(ctx, crecs, *k); err != nil {
			return err
		}
		defer test.Close()
		cs, err := test.Resolve(craw)
		if err != nil {
			return usagef("--labels %s: %v", *labelsFile, err)
		}
		testLabels = append(cs.Train, cs.Test...)
		what = fmt.Sprintf("%s, %d judgments; weights learned on the demo catalogue's %d training judgments", *catalogue, len(testLabels), len(split.Train))
	}
	w.Note = "learned on " + what
	if _, err := test.Matcher.SaveWeights(ctx, medmatch.System, w); err != nil {
		return err
	}
	var rows []matcheval.Metrics
	for _, m := range matcher.Models {
		r, err := test.Evaluate(ctx, testLabels, m)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	tw := tabwriter.NewWriter(std.Err, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s; %s\n\n", what, time.Since(start).Round(time.Millisecond))
	fmt.Fprintln(tw, "model\tnDCG@10\tMRR@10\tP@5\tmisordered\tqueries")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%.4f\t%d\n", r.Model, r.NDCG10, r.MRR10, r.P5, r.Misorder, r.Queries)
	}
	tw.Flush()
	fmt.Fprintln(std.Err, "\nlearned weights:")
	fmt.Fprintf(std.Err, "  bias %+.3f\n", w.Bias)
	for i, f := range w.Features {
		fmt.Fprintf(std.Err, "  %-14s %+.3f\n", f, w.W[i])
	}
	for _, r := range rows {
		fmt.Fprintln(std.Out, r.Line())
	}
	return nil
}

// poolEntry is one (query, candidate) pair to judge.
type poolEntry struct {
	Query     string   `json:"query"`
	Candidate string   `json:"candidate"`
	Grade     *int     `json:"grade"`
	Split     string   `json:"split,omitempty"`
	Models    []string `json:"models"`
}

// writePool writes, per query, the union of every model's top 10, with
// the grade already given (if any), for judges to complete.
func writePool(ctx context.Context, std IO, env *matcheval.Env, split *matcheval.Split, list, path string) error {
	labels := append(append([]matcher.Label(nil), split.Train...), split.Test...)
	known := map[[2]string]int{}
	splitOf := map[string]string{}
	for _, l := range split.Train {
		splitOf[l.Query.ID] = "train"
	}
	for _, l := range split.Test {
		splitOf[l.Query.ID] = "test"
	}
	for _, l := range labels {
		known[[2]string{l.Query.ID, l.Candidate.ID}] = l.Grade
	}
	if list != "" {
		for _, id := range strings.Split(list, ",") {
			id = strings.TrimSpace(id)
			k := medmatch.KindDemand
			if strings.HasPrefix(id, "need-") {
				k = medmatch.KindNeed
			} else if strings.HasPrefix(id, "ach-") {
				k = medmatch.KindAchievement
			}
			tgt := matcher.Targets(k)[0]
			// A placeholder label names the query and its target kind.
			labels = append(labels, matcher.Label{Query: medmatch.Ref{Kind: k, ID: id}, Candidate: medmatch.Ref{Kind: tgt}})
		}
	}
	per := map[medmatch.Ref]map[medmatch.Ref][]string{}
	var order []medmatch.Ref
	for _, m := range []string{matcher.ModelBM25, matcher.ModelSemantic, matcher.ModelDefault, matcher.ModelLearned} {
		r, err := env.Rankings(ctx, labels, m, 10)
		if err != nil {
			return err
		}
		for q, refs := range r {
			if per[q] == nil {
				per[q] = map[medmatch.Ref][]string{}
				order = append(order, q)
			}
			for _, c := range refs {
				per[q][c] = append(per[q][c], m)
			}
		}
	}
	sort.Slice(order, func(i, j int) bool { return order[i].ID < order[j].ID })
	var b bytes.Buffer
	n := 0
	for _, q := range order {
		var cs []medmatch.Ref
		for c := range per[q] {
			cs = append(cs, c)
		}
		sort.Slice(cs, func(i, j int) bool { return cs[i].ID < cs[j].ID })
		for _, c := range cs {
			e := poolEntry{Query: q.ID, Candidate: c.ID, Split: splitOf[q.ID], Models: per[q][c]}
			if g, ok := known[[2]string{q.ID, c.ID}]; ok {
				e.Grade = &g
			}
			line, _ := json.Marshal(e)
			b.Write(line)
			b.WriteByte('\n')
			n++
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(std.Out, "pooled %d (query, candidate) pairs of %d queries into %s\n", n, len(order), path)
	return nil
}
