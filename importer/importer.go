// Package importer reads catalogue records from JSONL and CSV files and
// writes them through the Store's Import, reporting every bad row as
// file:line: field: reason. The CLI and the HTTP API both use it, so an
// import means the same wherever it is made.
package importer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/curation"
)

// Format is an input format.
type Format string

// Formats.
const (
	JSONL Format = "jsonl" // one JSON object per line; "type" names the record kind
	CSV   Format = "csv"   // a header row of field names, then one record per row
	XLSX  Format = "xlsx"  // the first sheet with rows: a header row, then one record per row
)

// Formats lists the accepted formats, for help texts.
var Formats = []Format{JSONL, CSV, XLSX}

// MaxLineBytes bounds one JSONL line or CSV record.
const MaxLineBytes = 1 << 20

// FormatOf returns the format named by a file name's extension or a media
// type, or EUNSUPPORTED.
func FormatOf(name string) (Format, error) {
	n := strings.ToLower(name)
	if i := strings.IndexByte(n, ';'); i >= 0 {
		n = strings.TrimSpace(n[:i])
	}
	switch {
	case n == "jsonl", n == "ndjson", strings.HasSuffix(n, ".jsonl"), strings.HasSuffix(n, ".ndjson"),
		n == "application/x-ndjson", n == "application/jsonl", n == "application/x-jsonlines":
		return JSONL, nil
	case n == "csv", strings.HasSuffix(n, ".csv"), n == "text/csv":
		return CSV, nil
	case n == "xlsx", strings.HasSuffix(n, ".xlsx"), n == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
		return XLSX, nil
	}
	return "", medmatch.Errorf(medmatch.EUNSUPPORTED, "format", "cannot tell the format of %q (want .jsonl, .csv or .xlsx, or --format jsonl|csv|xlsx)", filepath.Base(name))
}

// Row is one parsed record and where it came from.
type Row struct {
	Line   int
	Record medmatch.Record
}

// RowReport says what happened to one input row.
type RowReport struct {
	Line   int             `json:"line"`
	Kind   medmatch.Kind   `json:"type,omitempty"`
	ID     string          `json:"id,omitempty"`
	Action string          `json:"action"` // create, update, reject, or skip (valid, but not written)
	Error  *medmatch.Error `json:"error,omitempty"`
	// Title is the record's title or name, so a dry run names what it
	// would create before any id exists.
	Title string `json:"title,omitempty"`
	// Similar lists the near-duplicates of the row (with CheckDuplicates):
	// catalogue records, or earlier rows of the file ("row:LINE").
	Similar []Similar `json:"similar,omitempty"`
	// Column is the column of a rejected row's field in a CSV or XLSX
	// file: its number or letter and its header ("C 成熟度").
	Column string `json:"column,omitempty"`
}

// columnOf finds the column key of an error's field: the field itself
// (maturity), or the column it is part of (price.min → price).
func columnOf(field string, columns map[string]string) string {
	for f := field; f != ""; {
		if _, ok := columns[f]; ok {
			return f
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return ""
}

// ActionSkip marks a valid row that was not written because other rows of
// an all-or-nothing import were rejected.
const ActionSkip = "skip"

// Report is the outcome of an import.
type Report struct {
	File     string `json:"file"`
	Created  int    `json:"created"`
	Updated  int    `json:"updated"`
	Rejected int    `json:"rejected"`
	DryRun   bool   `json:"dry_run,omitempty"`
	// SkipInvalid is set when valid rows are written despite rejected ones.
	SkipInvalid bool        `json:"skip_invalid,omitempty"`
	Written     bool        `json:"written"` // false when nothing was stored
	Seq         uint64      `json:"seq,omitempty"`
	Rows        []RowReport `json:"rows"`
}

// Problems returns the rejected rows as "file:line: field: reason" lines.
func (r *Report) Problems() []string {
	var out []string
	for _, row := range r.Rows {
		if row.Error == nil {
			continue
		}
		if row.Column != "" {
			out = append(out, fmt.Sprintf("%s:%d: column %s: %s: %s", r.File, row.Line, row.Column, row.Error.Field, row.Error.Message))
		} else if row.Error.Field != "" {
			out = append(out, fmt.Sprintf("%s:%d: %s: %s", r.File, row.Line, row.Error.Field, row.Error.Message))
		} else {
			out = append(out, fmt.Sprintf("%s:%d: %s", r.File, row.Line, row.Error.Message))
		}
	}
	return out
}

// Options control an import.
type Options struct {
	Kind        medmatch.Kind // kind of rows that do not name one; "" requires a type on every row
	SkipInvalid bool          // store the good rows, report the bad
	DryRun      bool          // report only
	Progress    func(done, total int)
	// CheckDuplicates flags each achievement or clinical need row that is
	// a near-duplicate of a catalogue record v may read or of an earlier
	// row (see curation.DupIndex).
	CheckDuplicates bool
	// Mapping maps a source's own column headers to field paths ("" to
	// ignore a column); it is tried before the built-in synonyms, so an
	// office keeps one mapping file per source and reuses it.
	Mapping map[string]string
}

// Parse reads every row of in. Rows that cannot be parsed are returned as
// rejected RowReports; the others as Rows.
func Parse(in io.Reader, f Format, kind medmatch.Kind) ([]Row, []RowReport, error) {
	rows, bad, _, err := parse(in, f, kind, nil)
	return rows, bad, err
}

// parse is Parse, also returning for tabular formats the column each
// field path came from.
func parse(in io.Reader, f Format, kind medmatch.Kind, mapping map[string]string) ([]Row, []RowReport, map[string]string, error) {
	if kind != "" && !kind.Valid() {
		return nil, nil, nil, medmatch.Errorf(medmatch.EINVALID, "type", "unknown record type %q", kind)
	}
	switch f {
	case JSONL:
		rows, bad, err := parseJSONL(in, kind)
		return rows, bad, nil, err
	case CSV:
		return parseCSV(in, kind, mapping)
	case XLSX:
		return parseXLSX(in, kind, mapping)
	}
	return nil, nil, nil, medmatch.Errorf(medmatch.EUNSUPPORTED, "format", "unknown format %q (want jsonl, csv, xlsx)", f)
}

func reject(line int, field, format string, args ...any) RowReport {
	return RowReport{Line: line, Action: medmatch.ActionReject, Error: medmatch.Errorf(medmatch.EINVALID, field, format, args...)}
}

var bom = []byte("\xef\xbb\xbf")

func parseJSONL(in io.Reader, kind medmatch.Kind) ([]Row, []RowReport, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), MaxLineBytes)
	var rows []Row
	var bad []RowReport
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if line == 1 {
			b = bytes.TrimPrefix(b, bom)
		}
		if len(b) == 0 {
			continue
		}
		r, rep := decodeObject(b, line, kind)
		if rep != nil {
			bad = append(bad, *rep)
			continue
		}
		rows = append(rows, Row{Line: line, Record: r})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, nil, medmatch.Errorf(medmatch.ETOOLARGE, "", "line %d: longer than %d bytes", line+1, MaxLineBytes)
		}
		return nil, nil, fmt.Errorf("importer: read: %w", err)
	}
	return rows, bad, nil
}

// decodeObject decodes one JSON object into a record of the kind its "type"
// names (or kind). Unknown fields are errors, so a misspelt field is not
// silently dropped.
func decodeObject(b []byte, line int, kind medmatch.Kind) (medmatch.Record, *RowReport) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil || probe == nil {
		msg := "null"
		if err != nil {
			msg = jsonMessage(err)
		}
		rep := reject(line, "", "not a JSON object: %s", msg)
		return nil, &rep
	}
	k := kind
	if raw, ok := probe["type"]; ok {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			rep := reject(line, "type", "must be a string")
			return nil, &rep
		}
		var err error
		if k, err = medmatch.ParseKind("type", s); err != nil {
			rep := reject(line, "type", "%s", medmatch.ErrorMessage(err))
			return nil, &rep
		}
		delete(probe, "type")
		b, _ = json.Marshal(probe)
	}
	if k == "" {
		rep := reject(line, "type", "is required (or give the kind of every row with --type)")
		return nil, &rep
	}
	r, err := medmatch.DecodeRecord(k, b)
	if err != nil {
		var me *medmatch.Error
		errors.As(err, &me)
		rep := RowReport{Line: line, Kind: k, Action: medmatch.ActionReject, Error: me}
		return nil, &rep
	}
	return r, nil
}

func jsonMessage(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", strings.TrimPrefix(se.Error(), "json: "), se.Offset)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// CSV columns are JSON field names; nested fields use a dot or an
// underscore (price.min or price_min); list fields hold items separated by
// ';', '；', '、' or '|'.
func parseCSV(in io.Reader, kind medmatch.Kind, mapping map[string]string) ([]Row, []RowReport, map[string]string, error) {
	br := bufio.NewReader(in)
	if b, _ := br.Peek(3); bytes.Equal(b, bom) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, nil, nil
	} else if err != nil {
		return nil, nil, nil, medmatch.Errorf(medmatch.EINVALID, "header", "line 1: %s", csvMessage(err))
	}
	cols, err := mapHeaderAt(header, kind, "line 1", mapping)
	if err != nil {
		return nil, nil, nil, err
	}
	var rows []Row
	var bad []RowReport
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, reject(pe.StartLine, "", "%s", csvMessage(err)))
				continue
			}
			return nil, nil, nil, fmt.Errorf("importer: read csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != len(cols) {
			bad = append(bad, reject(line, "", "has %d columns; the header has %d", len(rec), len(cols)))
			continue
		}
		r, rep := csvRow(cols, rec, line, kind)
		if rep != nil {
			bad = append(bad, *rep)
			continue
		}
		rows = append(rows, Row{Line: line, Record: r})
	}
	cm := make(map[string]string)
	for i, c := range cols {
		if c != "" {
			cm[c] = fmt.Sprintf("%d %s", i+1, strings.TrimSpace(header[i]))
		}
	}
	return rows, bad, cm, nil
}

// mapHeaderAt maps a header row to field paths (see headerField): "" for
// a column to ignore. An unknown column is an error naming it, so that a
// misspelt column is never dropped silently.
func mapHeaderAt(header []string, kind medmatch.Kind, at string, mapping map[string]string) ([]string, error) {
	cols := make([]string, len(header))
	seen := make(map[string]string)
	headerKind := kind // with a type column, any kind's fields may appear
	for _, h := range header {
		if strings.EqualFold(strings.TrimSpace(h), "type") {
			headerKind = ""
		}
	}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, medmatch.Errorf(medmatch.EINVALID, "header", "%s: column %d has no name", at, i+1)
		}
		c, ignore, ok := headerField(h, headerKind)
		if p, given := lookupMapping(mapping, h); given {
			c, ignore = p, p == ""
			ok = ignore || knownColumn(p, headerKind) || knownColumn(p+".min", headerKind)
			if !ok {
				return nil, medmatch.Errorf(medmatch.EINVALID, "mapping", "%s: the mapping sends column %q to %q, which is not a field", at, h, p)
			}
		}
		switch {
		case ignore:
			continue
		case !ok:
			return nil, medmatch.Errorf(medmatch.EINVALID, h, "%s: unknown column (column %d)", at, i+1)
		case seen[c] != "":
			return nil, medmatch.Errorf(medmatch.EINVALID, "header", "%s: columns %q and %q name the same field", at, seen[c], h)
		}
		seen[c] = h
		cols[i] = c
	}
	return cols, nil
}

func csvMessage(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("column %d: %s", pe.Column, pe.Err)
	}
	return err.Error()
}

func csvRow(cols, vals []string, line int, kind medmatch.Kind) (medmatch.Record, *RowReport) {
	k := kind
	for i, c := range cols {
		if c == "type" && strings.TrimSpace(vals[i]) != "" {
			var err error
			if k, err = medmatch.ParseKind("type", vals[i]); err != nil {
				rep := reject(line, "type", "%s", medmatch.ErrorMessage(err))
				return nil, &rep
			}
		}
	}
	if k == "" {
		rep := reject(line, "type", "is required (add a type column or give --type)")
		return nil, &rep
	}
	shape := shapes[k]
	obj := make(map[string]any)
	for i, c := range cols {
		if c == "type" || c == "" {
			continue
		}
		v := strings.TrimSpace(vals[i])
		if v == "" {
			continue
		}
		path := strings.Split(c, ".")
		kindOf, ok := shape[c]
		if !ok && !knownColumn(c+".min", k) {
			rep := reject(line, c, "is not a field of a %s", k)
			rep.Kind = k
			return nil, &rep
		}
		val, handled, err := normalize(c, v)
		if !handled {
			val, err = convert(v, kindOf)
		}
		if err != nil {
			rep := reject(line, c, "%s", err)
			rep.Kind = k
			return nil, &rep
		}
		m := obj
		for _, p := range path[:len(path)-1] {
			sub, _ := m[p].(map[string]any)
			if sub == nil {
				sub = make(map[string]any)
				m[p] = sub
			}
			m = sub
		}
		m[path[len(path)-1]] = val
	}
	b, err := json.Marshal(obj)
	if err != nil {
		rep := reject(line, "", "%s", err)
		return nil, &rep
	}
	return decodeObject(b, line, k)
}

// canonColumn maps a column name to the field path it names: price_min and
// price.min both name price.min.
func canonColumn(c string) string {
	if c == "type" || knownColumn(c, "") {
		return c
	}
	if a, b, ok := strings.Cut(c, "_"); ok && knownColumn(a+"."+b, "") {
		return a + "." + b
	}
	return c
}

// knownColumn reports whether c is a field path of kind k, or of any kind
// when k is "".
func knownColumn(c string, k medmatch.Kind) bool {
	for kk, shape := range shapes {
		if _, ok := shape[c]; ok && (k == "" || k == kk) {
			return true
		}
	}
	return false
}

func convert(v string, k reflect.Kind) (any, error) {
	switch k {
	case reflect.Slice:
		f := strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == '；' || r == '、' || r == '|' })
		out := make([]string, 0, len(f))
		for _, x := range f {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
		return out, nil
	case reflect.Float64, reflect.Int64:
		n, err := strconv.ParseFloat(strings.ReplaceAll(norm.NFKC.String(v), ",", ""), 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return nil, fmt.Errorf("%q is not a number", v)
		}
		return n, nil
	case reflect.Bool:
		switch strings.ToLower(v) {
		case "true", "yes", "y", "1", "是", "面议":
			return true, nil
		case "false", "no", "n", "0", "否":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not true or false", v)
	}
	return v, nil
}

// shapes maps each kind's CSV column paths ("price.min") to the JSON kind
// of the field, derived from the record types' json tags.
var shapes = func() map[medmatch.Kind]map[string]reflect.Kind {
	out := make(map[medmatch.Kind]map[string]reflect.Kind)
	for _, k := range medmatch.Kinds {
		m := make(map[string]reflect.Kind)
		walk(reflect.TypeOf(medmatch.NewRecord(k)).Elem(), "", m)
		out[k] = m
	}
	return out
}()

func walk(t reflect.Type, prefix string, m map[string]reflect.Kind) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			walk(f.Type, prefix, m)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct && ft.PkgPath() != "time":
			walk(ft, prefix+name+".", m)
		case ft.Kind() == reflect.Struct:
			m[prefix+name] = reflect.String
		default:
			m[prefix+name] = ft.Kind()
		}
	}
}

// Import parses in and writes its records through s as viewer v.
func Import(ctx context.Context, s medmatch.Store, v medmatch.Viewer, name string, in io.Reader, f Format, opt Options) (*Report, error) {
	rows, bad, columns, err := parse(in, f, opt.Kind, opt.Mapping)
	if err != nil {
		return nil, err
	}
	rep := &Report{File: filepath.Base(name), DryRun: opt.DryRun, SkipInvalid: opt.SkipInvalid, Rejected: len(bad)}
	recs := make([]medmatch.Record, len(rows))
	for i, r := range rows {
		recs[i] = r.Record
	}
	var similar [][]Similar
	if opt.CheckDuplicates {
		if similar, err = duplicatesOf(ctx, s, v, rows); err != nil {
			return nil, err
		}
	}
	// Rows that failed to parse make an all-or-nothing import fail: say so
	// for every row, and write nothing, but still check the parsed rows.
	storeOpt := medmatch.ImportOptions{SkipInvalid: opt.SkipInvalid, DryRun: opt.DryRun || (len(bad) > 0 && !opt.SkipInvalid)}
	res := &medmatch.ImportResult{Rows: []medmatch.ImportRow{}}
	if len(recs) > 0 {
		if opt.Progress != nil {
			total := len(recs)
			storeOpt.Progress = func(done int) { opt.Progress(done, total) }
		}
		if res, err = s.Import(ctx, v, recs, storeOpt); err != nil {
			return nil, err
		}
	}
	rep.Rows = append(rep.Rows, bad...)
	for i, row := range res.Rows {
		rr := RowReport{Line: rows[i].Line, Kind: row.Kind, ID: row.ID, Title: medmatch.TitleOf(rows[i].Record), Action: row.Action, Error: row.Error}
		if similar != nil {
			rr.Similar = similar[i]
		}
		rep.Rows = append(rep.Rows, rr)
	}
	for i := range rep.Rows {
		if e := rep.Rows[i].Error; e != nil && columns != nil {
			rep.Rows[i].Column = columns[columnOf(e.Field, columns)]
		}
	}
	sortRows(rep.Rows)
	rep.Rejected += res.Rejected
	rep.Seq = res.Seq
	rep.Written = !storeOpt.DryRun && (opt.SkipInvalid || rep.Rejected == 0) && res.Created+res.Updated > 0
	if rep.Written || opt.DryRun {
		rep.Created, rep.Updated = res.Created, res.Updated
	}
	if !rep.Written && !opt.DryRun {
		// Valid rows of a rejected all-or-nothing import were not written.
		rep.Created, rep.Updated = 0, 0
		for i := range rep.Rows {
			if rep.Rows[i].Action != medmatch.ActionReject {
				rep.Rows[i].Action = ActionSkip
			}
		}
	}
	return rep, nil
}

func sortRows(rows []RowReport) {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Line < rows[j].Line })
}

// Similar is a near-duplicate of an imported row.
type Similar struct {
	Kind    medmatch.Kind `json:"type"`
	ID      string        `json:"id"` // a record id, or row:LINE for a row of the same file
	Title   string        `json:"title"`
	Overlap float64       `json:"overlap"`
}

// duplicatesOf finds, for each row, the catalogue records (readable by v)
// and the earlier rows it nearly duplicates. A row that updates a record
// is not its own duplicate.
func duplicatesOf(ctx context.Context, s medmatch.Store, v medmatch.Viewer, rows []Row) ([][]Similar, error) {
	ix := curation.NewDupIndex()
	if _, err := s.Scan(ctx, func(r medmatch.Record) error {
		if d, ok := curation.NewDoc(r); ok && medmatch.CanRead(v, r) {
			ix.Add(d)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	out := make([][]Similar, len(rows))
	for i, row := range rows {
		d, ok := curation.NewDoc(row.Record)
		if !ok {
			continue
		}
		self := row.Record.Base().ID
		d.Ref.ID = fmt.Sprintf("row:%d", row.Line)
		for _, m := range ix.Similar(d) {
			if m.Doc.Ref.ID == self && self != "" {
				continue
			}
			out[i] = append(out[i], Similar{Kind: m.Doc.Ref.Kind, ID: m.Doc.Ref.ID, Title: m.Doc.Title, Overlap: m.Overlap})
		}
		ix.Add(d)
	}
	return out, nil
}
