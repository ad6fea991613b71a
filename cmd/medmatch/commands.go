package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/importer"
	"github.com/medmatch/medmatch/indexer"
)

func runImport(ctx context.Context, std IO, args []string) error {
	var c common
	fs := newFlags("import", "FILE [flags]", `
Imports catalogue records from FILE ("-" reads standard input).

Formats (from the file extension, or --format):
  jsonl  one JSON object per line, fields as in the API; "type" names the
         record kind (achievement, need, team, enterprise, demand) unless
         --type gives it for every row
  csv    a header row of field names (title, description, institution,
         specialty, fields, maturity, ip.type or ip_type, price.min or
         price_min, ...); list fields separate items with ; or 、
  xlsx   the first sheet with rows; title rows above the header are
         skipped, merged cells fill every cell they cover

CSV and XLSX headers may be in Chinese or English and in any order: 成果名称,
完成单位, 专科, 技术领域, 研发阶段, 专利类型, 专利状态, 专利号, 转化方式,
意向价格(万元), 成果介绍, 技术经纪人, 编号 (external_id) and their synonyms;
序号 and 备注 are ignored; an unknown column is an error. Values are
normalised: 样机 / 临床试验 / 已获证 → maturity stages, 发明专利 / 已授权 →
IP codes, 许可/转让 → transfer modes, prices such as 50-80万, 1.2亿,
120万以内, 面议 → price, full-width digits → digits.

A record whose external_id (or id) exists is updated; others are created.
By default the import is all or nothing: one bad row and nothing is written.
Every bad row is reported as FILE:LINE: FIELD: REASON (with the column for
CSV and XLSX). --dry-run shows row by row what would be created, updated
(matched by external_id) or rejected. Exit code 2 when rows
are rejected. While 'medmatch serve' holds the data dir, the import goes
through it.`, std.Err)
	c.register(fs)
	format := fs.String("format", "", "input format: jsonl, csv or xlsx (default: from the file name)")
	kind := fs.String("type", "", "record kind of rows that do not name one: achievement, need, team, enterprise, demand")
	skip := fs.Bool("skip-invalid", false, "store the valid rows and report the others")
	dry := fs.Bool("dry-run", false, "report what would be created, updated or rejected; write nothing")
	jsonOut := fs.Bool("json", false, "print the full report as JSON")
	checkDup := fs.Bool("check-duplicates", false, "flag rows that nearly duplicate a catalogue record or an earlier row")
	mapFile := fs.String("mapping", "", "a JSON file mapping this source's column headers to fields, {\"承担单位\": \"institution\", \"附件\": \"\"} (\"\" ignores a column); tried before the built-in synonyms")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one FILE (see --help)")
	}
	name := pos[0]
	fmtName := *format
	if fmtName == "" {
		fmtName = name
	}
	f, err := importer.FormatOf(fmtName)
	if err != nil {
		return usagef("%s", describe(err))
	}
	opt := importer.Options{SkipInvalid: *skip, DryRun: *dry, CheckDuplicates: *checkDup}
	if *mapFile != "" {
		data, err := os.ReadFile(*mapFile)
		if err != nil {
			return usagef("--mapping: %v", err)
		}
		if err := json.Unmarshal(data, &opt.Mapping); err != nil {
			return usagef("--mapping %s: want a JSON object of header → field: %v", *mapFile, err)
		}
	}
	if *kind != "" {
		if opt.Kind, err = medmatch.ParseKind("type", *kind); err != nil {
			return usagef("--type: %s", medmatch.ErrorMessage(err))
		}
	}
	var in io.Reader = std.In
	var size int64 = -1
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return usagef("%v", err)
		}
		defer file.Close()
		in = file
		if st, err := file.Stat(); err == nil {
			size = st.Size()
		}
	}
	tgt, err := connect(ctx, c.data)
	if err != nil {
		return err
	}
	defer tgt.Close()

	var rep importer.Report
	if tgt.remote != nil {
		q := url.Values{"format": {string(f)}, "name": {filepath.Base(name)}}
		if opt.Kind != "" {
			q.Set("type", string(opt.Kind))
		}
		q.Set("skip_invalid", strconv.FormatBool(*skip))
		q.Set("dry_run", strconv.FormatBool(*dry))
		q.Set("check_duplicates", strconv.FormatBool(*checkDup))
		if opt.Mapping != nil {
			m, _ := json.Marshal(opt.Mapping)
			q.Set("mapping", string(m))
		}
		body := in
		if bar := newBar(std.Err, size, "uploading"); bar != nil {
			r := progressbar.NewReader(in, bar)
			body = &r
		}
		var answer struct {
			importer.Report
			Inner *importer.Report `json:"report"`
		}
		err := tgt.remote.do(ctx, http.MethodPost, "/api/v1/import?"+q.Encode(), body, "application/octet-stream", &answer)
		if answer.Inner != nil {
			rep = *answer.Inner
		} else {
			rep = answer.Report
		}
		if err != nil && rep.Rows == nil {
			return err
		}
	} else {
		var bar *progressbar.ProgressBar
		opt.Progress = func(done, total int) {
			if bar == nil && total >= 5000 {
				bar = newBar(std.Err, int64(total), "importing")
			}
			if bar != nil {
				bar.Set(done)
			}
		}
		r, err := importer.Import(ctx, tgt.store, medmatch.System, name, in, f, opt)
		if err != nil {
			return err
		}
		if bar != nil {
			bar.Finish()
		}
		rep = *r
	}
	return printReport(std, &rep, *jsonOut)
}

func printReport(std IO, rep *importer.Report, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(std.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		if rep.DryRun {
			for _, row := range rep.Rows {
				if row.Error == nil {
					what := row.ID
					if row.Title != "" {
						what = strings.TrimSpace(row.ID + " " + row.Title)
					}
					fmt.Fprintf(std.Out, "%s:%d: would %s %s %s\n", rep.File, row.Line, row.Action, row.Kind, what)
				}
			}
		}
		for _, row := range rep.Rows {
			for _, sim := range row.Similar {
				fmt.Fprintf(std.Out, "%s:%d: near-duplicate of %s %s %s (overlap %.2f)\n", rep.File, row.Line, sim.Kind, sim.ID, sim.Title, sim.Overlap)
			}
		}
		for _, p := range rep.Problems() {
			fmt.Fprintln(std.Err, p)
		}
		verb := "imported"
		switch {
		case rep.DryRun && rep.Rejected > 0 && !rep.SkipInvalid:
			verb = "dry run (as it stands nothing would be written: all or nothing, see --skip-invalid)"
		case rep.DryRun:
			verb = "dry run"
		case !rep.Written && rep.Rejected > 0:
			verb = "nothing written"
		}
		fmt.Fprintf(std.Out, "%s: %s: %d created, %d updated, %d rejected\n", rep.File, verb, rep.Created, rep.Updated, rep.Rejected)
	}
	if rep.Rejected > 0 {
		if !rep.Written && !rep.DryRun {
			return usagef("%d row(s) rejected; nothing was written (fix them, or use --skip-invalid)", rep.Rejected)
		}
		return usagef("%d row(s) rejected", rep.Rejected)
	}
	return nil
}

// newBar returns a progress bar on w when w is a terminal, else nil.
func newBar(w io.Writer, max int64, what string) *progressbar.ProgressBar {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || max <= 0 {
		return nil
	}
	return progressbar.NewOptions64(max, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100_000_000))
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func runSearch(ctx context.Context, std IO, args []string) error {
	var c common
	fs := newFlags("search", "QUERY [flags]", `
Searches the catalogue as an anonymous user (or as the owner of --key) and
prints the hits with highlighted fragments ([...] marks matched words).

Query syntax: words (any may match), "a phrase", -excluded, title:word
(also summary:, description:, institution:), specialty:骨科 (also field:,
maturity:, mode:, region:, ip_type:, ip_status:, status:, price:, type:),
a OR b. A QUERY that starts with '-' goes after "--".`, std.Err)
	c.register(fs)
	types := fs.String("type", "", "comma-separated record kinds to search (default all)")
	limit := fs.Int("limit", indexer.DefaultLimit, fmt.Sprintf("hits to show (1..%d)", indexer.MaxLimit))
	op := fs.String("operator", "", "how query words combine: or (default), and")
	sortBy := fs.String("sort", "", "relevance (default), newest, price, price_desc")
	facets := fs.String("facets", "", "facets to count, comma-separated, or all: "+strings.Join(indexer.Facets, ", "))
	var filters multi
	fs.Var(&filters, "filter", "NAME=VALUE filter, repeatable (specialty, fields, maturity, transfer_modes, region, institution, ip_type, ip_status, status, price_band)")
	priceMin := fs.String("price-min", "", "keep prices/budgets reaching at least this (万元)")
	priceMax := fs.String("price-max", "", "keep prices/budgets starting at most this (万元)")
	from := fs.String("updated-from", "", "keep records updated on or after this date (2026-01-31)")
	to := fs.String("updated-to", "", "keep records updated before this date")
	cur := fs.String("cursor", "", "the next_cursor of a previous page")
	noHL := fs.Bool("no-highlight", false, "skip highlights")
	key := fs.String("key", os.Getenv("MEDMATCH_KEY"), "search as the owner of this API key (env MEDMATCH_KEY)")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 && len(filters) == 0 && *facets == "" {
		return usagef("want a QUERY (see --help)")
	}
	q := url.Values{"q": {strings.Join(pos, " ")}, "limit": {strconv.Itoa(*limit)}}
	for name, val := range map[string]string{"type": *types, "operator": *op, "sort": *sortBy, "facets": *facets,
		"price_min": *priceMin, "price_max": *priceMax, "updated_from": *from, "updated_to": *to, "cursor": *cur} {
		if val != "" {
			q.Set(name, val)
		}
	}
	if *noHL {
		q.Set("highlight", "false")
	}
	for _, f := range filters {
		name, val, ok := strings.Cut(f, "=")
		if !ok || name == "" || val == "" {
			return usagef("--filter %q: want NAME=VALUE", f)
		}
		q.Add(name, val)
	}
	req, err := indexer.ParseParams(q) // check before connecting
	if err != nil {
		return usagef("%s", describe(err))
	}
	tgt, err := connect(ctx, c.data)
	if err != nil {
		return err
	}
	defer tgt.Close()
	var res indexer.Result
	if tgt.remote != nil {
		cl := *tgt.remote
		cl.token = *key
		var raw struct {
			indexer.Result
			Hits []json.RawMessage `json:"hits"`
		}
		if err := cl.do(ctx, http.MethodGet, "/api/v1/search?"+q.Encode(), nil, "", &raw); err != nil {
			return err
		}
		res = raw.Result
		res.Hits = nil
		for _, h := range raw.Hits {
			var hit struct {
				indexer.Hit
				Record json.RawMessage `json:"record"`
			}
			if err := json.Unmarshal(h, &hit); err != nil {
				return err
			}
			hit.Hit.Record, _ = medmatch.DecodeRecord(hit.Kind, hit.Record)
			res.Hits = append(res.Hits, hit.Hit)
		}
	} else {
		ix, v, err := tgt.localIndex(ctx, c.data, *key)
		if err != nil {
			return err
		}
		defer ix.Close()
		r, err := ix.Search(ctx, v, req)
		if err != nil {
			return err
		}
		res = *r
	}
	if *jsonOut {
		enc := json.NewEncoder(std.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Fprintf(std.Out, "%d hits for %q (words: %s) in %.1f ms\n", res.Total, res.Query, strings.Join(res.Terms, " "), res.TookMS)
	for _, name := range indexer.Facets {
		vals, ok := res.Facets[name]
		if !ok {
			continue
		}
		parts := make([]string, len(vals))
		for i, fv := range vals {
			parts[i] = fmt.Sprintf("%s %d", fv.Value, fv.Count)
		}
		fmt.Fprintf(std.Out, "  %s: %s\n", name, strings.Join(parts, " · "))
	}
	for i, h := range res.Hits {
		fmt.Fprintf(std.Out, "\n%2d. [%s %s] %s  (%.2f)\n", i+1, h.Kind, h.ID, h.Title, h.Score)
		for _, field := range []string{"title", "summary", "description", "problem", "expertise", "profile", "institution", "team", "hospital"} {
			for _, frag := range h.Highlights[field] {
				if field == "title" {
					continue
				}
				fmt.Fprintf(std.Out, "    %s: %s\n", field, plain(frag))
			}
		}
	}
	if res.NextCursor != "" {
		fmt.Fprintf(std.Out, "\nnext page: --cursor %s\n", res.NextCursor)
	}
	return nil
}

// plain turns a highlight fragment into terminal text: [word] for <mark>.
func plain(s string) string {
	s = strings.NewReplacer("<mark>", "[", "</mark>", "]", "\n", " ").Replace(s)
	return htmlUnescape(s)
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&amp;", "&").Replace(s)
}

func runReindex(ctx context.Context, std IO, args []string) error {
	var c common
	fs := newFlags("reindex", "[flags]", `
Rebuilds the search index from the store. The old index answers searches
until the new one is swapped in. Goes through the server when one runs.`, std.Err)
	c.register(fs)
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	tgt, err := connect(ctx, c.data)
	if err != nil {
		return err
	}
	defer tgt.Close()
	if tgt.remote != nil {
		var out map[string]any
		if err := tgt.remote.do(ctx, http.MethodPost, "/api/v1/admin/reindex", nil, "", &out); err != nil {
			return err
		}
		fmt.Fprintf(std.Out, "reindexed %v documents in %v ms (through %s)\n", out["docs"], out["took_ms"], tgt)
		return nil
	}
	log, err := c.logger(std.Err)
	if err != nil {
		return err
	}
	ix, err := indexer.Open(ctx, indexer.Dir(c.data), tgt.store, indexer.Options{Logger: log})
	if err != nil {
		return err
	}
	defer ix.Close()
	if !ix.Built() { // Open rebuilds a missing or outdated index itself
		if err := ix.Rebuild(ctx); err != nil {
			return err
		}
	}
	n, _ := ix.DocCount()
	fmt.Fprintf(std.Out, "reindexed %d documents\n", n)
	return nil
}

func runKey(ctx context.Context, std IO, args []string) error {
	var c common
	fs := newFlags("key", "add --role ROLE [--enterprise ID | --institution NAME] [flags]", `
Creates an API key and prints it, alone, on standard output. It is shown
once: the store keeps only its hash. Roles: `+roles()+`.
A key has every right of its role: enterprise keys see their enterprise's
private demands, institution keys their institution's drafts.`, std.Err)
	c.register(fs)
	role := fs.String("role", "", "role: "+roles())
	ent := fs.String("enterprise", "", "enterprise id (role enterprise)")
	inst := fs.String("institution", "", "institution name (role institution)")
	name := fs.String("name", "", "a label for the key")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "add" {
		return usagef("want `medmatch key add --role ROLE` (see --help)")
	}
	v := medmatch.Viewer{Role: medmatch.Role(*role), Enterprise: *ent, Institution: *inst}
	if err := v.Validate(); err != nil {
		return usagef("--%s", describe(err))
	}
	tgt, err := connect(ctx, c.data)
	if err != nil {
		return err
	}
	defer tgt.Close()
	if tgt.remote != nil {
		body, _ := json.Marshal(map[string]string{"role": *role, "enterprise": *ent, "institution": *inst, "name": *name})
		var out struct {
			Key string `json:"key"`
		}
		if err := tgt.remote.do(ctx, http.MethodPost, "/api/v1/keys", strings.NewReader(string(body)), "application/json", &out); err != nil {
			return err
		}
		fmt.Fprintln(std.Out, out.Key)
		return nil
	}
	if v.Role == medmatch.RoleEnterprise {
		if _, err := tgt.store.Get(ctx, medmatch.System, medmatch.KindEnterprise, v.Enterprise); err != nil {
			return usagef("--enterprise: no enterprise %q", v.Enterprise)
		}
	}
	k, secret, err := medmatch.NewKey(v, *name, nowUTC())
	if err != nil {
		return err
	}
	if err := tgt.store.CreateKey(ctx, medmatch.System, k); err != nil {
		return err
	}
	fmt.Fprintln(std.Out, secret)
	return nil
}

func runSuggest(ctx context.Context, std IO, args []string) error {
	var c common
	fs := newFlags("suggest", "PREFIX [flags]", `
Completes PREFIX as the search box does: record titles, institution names
and dictionary terms that start with it, also from pinyin (naoqibo) and
pinyin initials (nqbq). Suggestions respect visibility: a private record's
title is suggested only to those who may read it.`, std.Err)
	c.register(fs)
	limit := fs.Int("limit", indexer.DefaultSuggestLimit, fmt.Sprintf("suggestions to show (1..%d)", indexer.MaxSuggestLimit))
	key := fs.String("key", os.Getenv("MEDMATCH_KEY"), "suggest as the owner of this API key (env MEDMATCH_KEY)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one PREFIX (see --help)")
	}
	if *limit < 1 || *limit > indexer.MaxSuggestLimit {
		return usagef("--limit: must be between 1 and %d", indexer.MaxSuggestLimit)
	}
	tgt, err := connect(ctx, c.data)
	if err != nil {
		return err
	}
	defer tgt.Close()
	var out []indexer.Suggestion
	if tgt.remote != nil {
		cl := *tgt.remote
		cl.token = *key
		var res struct {
			Suggestions []indexer.Suggestion `json:"suggestions"`
		}
		q := url.Values{"q": {pos[0]}, "limit": {strconv.Itoa(*limit)}}
		if err := cl.do(ctx, http.MethodGet, "/api/v1/suggest?"+q.Encode(), nil, "", &res); err != nil {
			return err
		}
		out = res.Suggestions
	} else {
		ix, v, err := tgt.localIndex(ctx, c.data, *key)
		if err != nil {
			return err
		}
		defer ix.Close()
		// A one-off command waits for the suggestions that a server loads
		// in the background.
		select {
		case <-ix.SuggestionsReady():
		case <-ctx.Done():
			return ctx.Err()
		}
		if out, err = ix.Suggest(ctx, v, pos[0], *limit); err != nil {
			return err
		}
	}
	for _, s := range out {
		if s.ID != "" {
			fmt.Fprintf(std.Out, "%s\t%s %s\n", s.Text, s.Kind, s.ID)
		} else {
			fmt.Fprintf(std.Out, "%s\t%s\n", s.Text, s.Kind)
		}
	}
	return nil
}
