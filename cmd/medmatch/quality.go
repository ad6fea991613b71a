package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"text/tabwriter"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/curation"
)

func init() {
	commands = append(commands, command{"quality", "[--duplicates] [--stale-months N] [--limit N] [--json]", "the data-quality report per institution, or suspected near-duplicates", runQuality})
}

func runQuality(ctx context.Context, std IO, args []string) error {
	var c common
	fs := newFlags("quality", "[--duplicates] [flags]", `
Reports the records missing key fields (summary, IP, transfer modes, price,
region, broker, team; a need's department and outcomes; a demand's budget),
with implausible values (registered or marketed without a patent or
registration number, IP granted without a number, a price range wider than a
factor of 100, an open demand past its deadline, updated in the future), or
stale (not updated for --stale-months), counted per institution. With
--duplicates, lists suspected near-duplicates instead: re-typed copies with
sentences reordered, synonyms, trimmed text, changed numbers or traditional
characters. Goes through the server when one runs (GET
/api/v1/admin/quality, /api/v1/admin/duplicates).`, std.Err)
	c.register(fs)
	months := fs.Int("stale-months", 12, "a record not updated for this many months is stale")
	limit := fs.Int("limit", 50, "issues to list (the counts cover every record)")
	jsonOut := fs.Bool("json", false, "print the whole report as JSON")
	dupes := fs.Bool("duplicates", false, "list suspected near-duplicate achievements and clinical needs instead (GET /api/v1/admin/duplicates)")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *months < 1 || *months > 240 {
		return usagef("--stale-months: must be between 1 and 240, got %d", *months)
	}
	if *limit < 0 {
		return usagef("--limit: must not be negative, got %d", *limit)
	}
	tgt, err := connect(ctx, c.data)
	if err != nil {
		return err
	}
	defer tgt.Close()
	if *dupes {
		return printDuplicates(ctx, std, tgt, *limit, *jsonOut)
	}
	var rep curation.Report
	if tgt.remote != nil {
		path := "/api/v1/admin/quality?stale_months=" + strconv.Itoa(*months) + "&limit=" + strconv.Itoa(max(1, *limit))
		if err := tgt.remote.do(ctx, http.MethodGet, path, nil, "", &rep); err != nil {
			return err
		}
	} else {
		r, err := curation.Check(ctx, tgt.store, medmatch.Viewer{Role: medmatch.RoleOrganizer, KeyID: "cli"}, curation.Options{StaleMonths: *months})
		if err != nil {
			return err
		}
		rep = *r
	}
	if len(rep.Issues) > *limit {
		rep.Issues = rep.Issues[:*limit]
	}
	if *jsonOut {
		enc := json.NewEncoder(std.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(std.Out, "%d records, %d with issues: %d missing, %d implausible, %d stale (not updated for %d months)\n\n",
		rep.Records, rep.WithIssues, rep.ByClass[curation.Missing], rep.ByClass[curation.Implausible], rep.ByClass[curation.Stale], rep.StaleMonths)
	tw := tabwriter.NewWriter(std.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "institution\trecords\twith issues\tmissing\timplausible\tstale")
	for _, o := range rep.ByOwner {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", o.Owner, o.Records, o.WithIssues, o.Missing, o.Implausible, o.Stale)
	}
	tw.Flush()
	if len(rep.Issues) > 0 {
		fmt.Fprintln(std.Out)
		for _, is := range rep.Issues {
			fmt.Fprintf(std.Out, "%s %s %s\t%s.%s: %s (%s)\n", is.Class, is.Kind, is.ID, is.Kind, is.Field, is.Detail, is.Title)
		}
	}
	return nil
}

func printDuplicates(ctx context.Context, std IO, tgt *target, limit int, jsonOut bool) error {
	var out struct {
		Pairs []curation.Pair `json:"pairs"`
		Total int             `json:"total"`
	}
	if tgt.remote != nil {
		if err := tgt.remote.do(ctx, http.MethodGet, "/api/v1/admin/duplicates?limit="+strconv.Itoa(max(1, limit)), nil, "", &out); err != nil {
			return err
		}
	} else {
		pairs, err := curation.Duplicates(ctx, tgt.store, medmatch.Viewer{Role: medmatch.RoleOrganizer, KeyID: "cli"})
		if err != nil {
			return err
		}
		out.Pairs, out.Total = pairs, len(pairs)
	}
	if len(out.Pairs) > limit {
		out.Pairs = out.Pairs[:limit]
	}
	if jsonOut {
		enc := json.NewEncoder(std.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(std.Out, "%d suspected duplicate pairs (overlap of character 3-grams ≥ %.2f)\n", out.Total, curation.DupThreshold)
	for _, p := range out.Pairs {
		fmt.Fprintf(std.Out, "%.2f  %s %s %s (%s)\n      %s %s %s (%s)\n", p.Overlap, p.A.Ref.Kind, p.A.Ref.ID, p.A.Title, p.A.Institution, p.B.Ref.Kind, p.B.Ref.ID, p.B.Title, p.B.Institution)
	}
	return nil
}
