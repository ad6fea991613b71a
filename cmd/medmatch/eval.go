package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/medmatch/medmatch/indexer"
	"github.com/medmatch/medmatch/internal/searcheval"
)

func init() {
	commands = append(commands, command{"eval", "search --file FILE | catalogue | match [flags]", "measure search or match quality on graded judgments", runEval})
}

// runEval compares our analysis with bleve's cjk and standard analyzers on
// a query–title relevance set (see package searcheval). The table goes to
// standard error; standard output gets exactly one line per analyzer:
// analyzer=NAME ndcg@10=… mrr@10=… queries=N.
func runEval(ctx context.Context, std IO, args []string) error {
	if len(args) > 0 && args[0] == "match" {
		return runEvalMatch(ctx, std, args[1:])
	}
	fs := newFlags("eval", "search --file FILE [flags]", `
Measures search quality on a query–title relevance set in the KUAKE-QTR
format: a JSON array of {"query", "title", "label"} with labels "0"-"3".
Every unique title is indexed (ours: as achievement titles, with the same
analyzer, mapping and query builder as the catalogue; cjk and standard:
bleve's analyzers with the same BM25 scoring), every query that has a title
labelled ≥ 2 is run, and nDCG@10 and MRR@10 are reported. Such a file is,
for example, the training split of CBLUE's KUAKE-QTR task (research use
only; in this workplace ../shared/data/kuake-qtr/KUAKE-QTR_train.json), or
indexer/testdata/evalset.json, the small set the regression test uses.

medmatch eval catalogue scores every query-builder variant on the demo
catalogue's own query set (fixtures/queries: queries.tsv with graded
judgments.tsv of the pooled top 10 of every variant).`, std.Err)
	file := fs.String("file", "", "relevance set (JSON, KUAKE-QTR format)")
	variants := fs.Bool("variants", false, "also print our query-builder variants (the measurements behind the defaults)")
	dir := fs.String("dir", "fixtures/queries", "catalogue: the folder of queries.tsv and judgments.tsv")
	pool := fs.String("pool", "", "catalogue: write the pooled top 10 of every variant to this file, for judging")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 1 && pos[0] == "catalogue" {
		return evalCatalogue(ctx, std, *dir, *pool)
	}
	if len(pos) != 1 || pos[0] != "search" {
		return usagef("want `medmatch eval search --file FILE` or `medmatch eval catalogue` (see --help)")
	}
	if *file == "" {
		return usagef("--file is required: a query–title relevance set in the KUAKE-QTR format, such as CBLUE's KUAKE-QTR training split (../shared/data/kuake-qtr/KUAKE-QTR_train.json here) or indexer/testdata/evalset.json")
	}
	f, err := os.Open(*file)
	if err != nil {
		return usagef("--file: %v", err)
	}
	set, err := searcheval.Read(f)
	f.Close()
	if err != nil {
		return usagef("--file %s: %v", *file, err)
	}
	start := time.Now()
	results, err := searcheval.All(ctx, set)
	if err != nil {
		return err
	}
	if *variants {
		for _, v := range []struct {
			name string
			req  indexer.Request
		}{
			{"ours: words only", indexer.Request{CharMin: -1}},
			{"ours: characters only", indexer.Request{NoWords: true}},
			{"ours: character boost 3", indexer.Request{CharBoost: 3}},
			{"ours: character boost 6", indexer.Request{CharBoost: 6}},
			{"ours: character boost 20", indexer.Request{CharBoost: 20}},
			{"ours: characters ≥ 50%", indexer.Request{CharMin: 0.5}},
			{"ours: no common-word rule", indexer.Request{Common: -1}},
			{"ours: operator and", indexer.Request{Operator: indexer.OperatorAnd}},
		} {
			r, err := searcheval.Ours(ctx, set, v.req)
			if err != nil {
				return err
			}
			r.Analyzer = v.name
			results = append(results, r)
		}
	}
	w := tabwriter.NewWriter(std.Err, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "%d pairs, %d titles, %d queries, %d with a title labelled ≥ 2 (evaluated); %s\n\n",
		set.Pairs, len(set.Titles), set.All, len(set.Queries), time.Since(start).Round(time.Second))
	fmt.Fprintln(w, "analyzer\tnDCG@10\tMRR@10\tqueries without a hit")
	for _, r := range results {
		fmt.Fprintf(w, "%s\t%.4f\t%.4f\t%d\n", r.Analyzer, r.NDCG, r.MRR, r.NoHits)
	}
	w.Flush()
	for _, r := range results[:3] {
		fmt.Fprintf(std.Out, "analyzer=%s ndcg@10=%.3f mrr@10=%.3f queries=%d\n", r.Analyzer, r.NDCG, r.MRR, r.Queries)
	}
	return nil
}

func evalCatalogue(ctx context.Context, std IO, dir, pool string) error {
	qf, err := os.Open(filepath.Join(dir, "queries.tsv"))
	if err != nil {
		return usagef("--dir: %v", err)
	}
	defer qf.Close()
	var jr *os.File
	if pool == "" {
		if jr, err = os.Open(filepath.Join(dir, "judgments.tsv")); err != nil {
			return usagef("--dir: %v (make the pool with --pool and grade it first)", err)
		}
		defer jr.Close()
	}
	var qs []searcheval.CatalogueQuery
	if jr != nil {
		qs, err = searcheval.ReadCatalogue(qf, jr)
	} else {
		qs, err = searcheval.ReadCatalogue(qf, nil)
	}
	if err != nil {
		return usagef("%v", err)
	}
	cat, err := searcheval.OpenCatalogue(ctx)
	if err != nil {
		return err
	}
	defer cat.Close()
	if pool != "" {
		p, err := cat.Pool(ctx, qs)
		if err != nil {
			return err
		}
		var b strings.Builder
		b.WriteString("# qid\ttype/id\tgrade\ttitle\ttext (first 160 characters)\n")
		n := 0
		for _, q := range qs {
			for _, h := range p[q.ID] {
				text := ""
				for _, f := range h.Record.Text()[1:] {
					text += f.Value + " "
				}
				r := []rune(strings.Join(strings.Fields(text), " "))
				if len(r) > 160 {
					r = r[:160]
				}
				fmt.Fprintf(&b, "%s\t%s/%s\t\t%s\t%s\n", q.ID, h.Kind, h.ID, h.Title, string(r))
				n++
			}
		}
		if err := os.WriteFile(pool, []byte(b.String()), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(std.Out, "pooled %d (query, record) pairs of %d queries into %s\n", n, len(qs), pool)
		return nil
	}
	w := tabwriter.NewWriter(std.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "variant\tnDCG@10\tMRR@10\tqueries")
	for _, v := range searcheval.Variants {
		r, err := cat.Eval(ctx, qs, v.Name, v.Req)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%.4f\t%.4f\t%d\n", r.Analyzer, r.NDCG, r.MRR, r.Queries)
	}
	return w.Flush()
}
