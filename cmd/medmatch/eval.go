package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/bolt"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/indexer"
)

func init() {
	commands = append(commands, command{"eval", "kuake [flags]", "measure search quality on a labelled query set", runEval})
}

// runEval measures ranking quality on KUAKE-QTR (CBLUE's query–title
// relevance set, research use only: it is read from disk, never shipped).
// Every unique title becomes a record; each query that has a title labelled
// ≥ 2 is run with every variant, and nDCG@10 (gain 2^label − 1) and MRR@10
// (first title labelled ≥ 2) are reported.
func runEval(ctx context.Context, std IO, args []string) error {
	var c common
	fs := newFlags("eval", "kuake [flags]", `
Measures search quality with the KUAKE-QTR query–title relevance set (read
from --file; research use only, never copied into the project). Indexes
every unique title, runs every query that has a relevant title with each
query variant, and prints nDCG@10 and MRR@10 per variant.`, std.Err)
	c.register(fs)
	file := fs.String("file", envOr("MEDMATCH_KUAKE", "../shared/data/kuake-qtr/KUAKE-QTR_train.json"), "KUAKE-QTR JSON file (env MEDMATCH_KUAKE)")
	maxQ := fs.Int("queries", 0, "evaluate at most this many queries (0: all)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "kuake" {
		return usagef("want `medmatch eval kuake` (see --help)")
	}
	data, err := os.ReadFile(*file)
	if err != nil {
		return usagef("--file: %v", err)
	}
	var pairs []struct{ Query, Title, Label string }
	if err := json.Unmarshal(data, &pairs); err != nil {
		return usagef("--file: not a KUAKE-QTR JSON array: %v", err)
	}
	titleID := map[string]string{}
	judged := map[string]map[string]int{} // query → title id → label
	var queries []string
	for _, p := range pairs {
		id, ok := titleID[p.Title]
		if !ok {
			id = fmt.Sprintf("t%05d", len(titleID)+1)
			titleID[p.Title] = id
		}
		l, _ := strconv.Atoi(p.Label)
		if judged[p.Query] == nil {
			judged[p.Query] = map[string]int{}
			queries = append(queries, p.Query)
		}
		judged[p.Query][id] = l
	}
	var evalQ []string
	for _, q := range queries {
		for _, l := range judged[q] {
			if l >= 2 {
				evalQ = append(evalQ, q)
				break
			}
		}
	}
	if *maxQ > 0 && len(evalQ) > *maxQ {
		evalQ = evalQ[:*maxQ]
	}

	dir, err := os.MkdirTemp("", "medmatch-eval-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	store, err := bolt.Open(dir, bolt.Options{Taxonomy: dict.MustTaxonomy()})
	if err != nil {
		return err
	}
	defer store.Close()
	recs := make([]medmatch.Record, 0, len(titleID))
	for t, id := range titleID {
		recs = append(recs, &medmatch.Achievement{Meta: medmatch.Meta{ID: id}, Title: t, Description: t,
			Institution: "评测集", Specialty: "儿科", Fields: []string{"数字医疗"}, Maturity: medmatch.MaturityIdea})
	}
	if res, err := store.Import(ctx, medmatch.System, recs, medmatch.ImportOptions{}); err != nil {
		return err
	} else if res.Rejected > 0 {
		return fmt.Errorf("eval: %d titles rejected", res.Rejected)
	}
	start := time.Now()
	ix, err := indexer.Open(ctx, indexer.Dir(dir), store, indexer.Options{})
	if err != nil {
		return err
	}
	defer ix.Close()
	fmt.Fprintf(std.Out, "KUAKE-QTR: %d pairs, %d titles indexed in %s, %d of %d queries have a title labelled ≥ 2\n\n",
		len(pairs), len(titleID), time.Since(start).Round(time.Millisecond), len(evalQ), len(queries))

	title := []string{"title"}
	variants := []struct {
		name string
		req  indexer.Request
	}{
		{"ours", indexer.Request{Fields: title}},
		{"words only", indexer.Request{Fields: title, CharMin: -1}},
		{"and", indexer.Request{Fields: title, Operator: indexer.OperatorAnd}},
	}
	w := tabwriter.NewWriter(std.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "variant\tnDCG@10\tMRR@10\tno hits\tms/query")
	for _, v := range variants {
		var ndcg, mrr float64
		empty := 0
		t0 := time.Now()
		for _, q := range evalQ {
			req := v.req
			req.Query, req.Limit, req.Plain = q, 10, true
			if len([]rune(q)) > indexer.MaxQueryChars {
				continue
			}
			res, err := ix.Search(ctx, medmatch.System, req)
			if err != nil {
				return fmt.Errorf("eval: query %q: %w", q, err)
			}
			if len(res.Hits) == 0 {
				empty++
				if os.Getenv("EVAL_DEBUG") != "" && empty < 15 {
					fmt.Fprintf(std.Err, "no hits: %q terms %v\n", q, res.Terms)
				}
			}
			var ids []string
			for _, h := range res.Hits {
				ids = append(ids, h.ID)
			}
			n, r := scores(ids, judged[q])
			ndcg += n
			mrr += r
		}
		n := float64(len(evalQ))
		fmt.Fprintf(w, "%s\t%.4f\t%.4f\t%d\t%.2f\n", v.name, ndcg/n, mrr/n, empty, float64(time.Since(t0).Milliseconds())/n)
	}
	return w.Flush()
}

// scores returns nDCG@10 and reciprocal rank@10 of a ranking.
func scores(ranked []string, labels map[string]int) (float64, float64) {
	dcg, rr := 0.0, 0.0
	for i, id := range ranked {
		if i >= 10 {
			break
		}
		l := labels[id]
		dcg += (math.Pow(2, float64(l)) - 1) / math.Log2(float64(i)+2)
		if rr == 0 && l >= 2 {
			rr = 1 / float64(i+1)
		}
	}
	var ideal []int
	for _, l := range labels {
		ideal = append(ideal, l)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(ideal)))
	idcg := 0.0
	for i, l := range ideal {
		if i >= 10 {
			break
		}
		idcg += (math.Pow(2, float64(l)) - 1) / math.Log2(float64(i)+2)
	}
	if idcg == 0 {
		return 0, rr
	}
	return dcg / idcg, rr
}
