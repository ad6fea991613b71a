package importer

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/medmatch/medmatch"
)

// parseXLSX reads the first sheet that has rows: the first row naming two
// or more columns is the header (titles above it are skipped), each later
// non-empty row a record. A merged range gives its value to every cell it
// covers (excelize reports it at the top-left cell only). Rows are
// numbered as the spreadsheet numbers them.
func parseXLSX(in io.Reader, kind medmatch.Kind, mapping map[string]string) ([]Row, []RowReport, map[string]string, error) {
	f, err := excelize.OpenReader(in)
	if err != nil {
		return nil, nil, nil, medmatch.Errorf(medmatch.EINVALID, "file", "is not an .xlsx workbook: %v", err)
	}
	defer f.Close()
	var sheet string
	var grid [][]string
	for _, name := range f.GetSheetList() {
		rows, err := f.GetRows(name)
		if err != nil {
			return nil, nil, nil, medmatch.Errorf(medmatch.EINVALID, "file", "sheet %q: %v", name, err)
		}
		if len(rows) > 0 {
			sheet, grid = name, rows
			break
		}
	}
	if sheet == "" {
		return nil, nil, nil, nil
	}
	merges, err := f.GetMergeCells(sheet)
	if err != nil {
		return nil, nil, nil, medmatch.Errorf(medmatch.EINVALID, "file", "sheet %q: %v", sheet, err)
	}
	for _, m := range merges {
		c1, r1, err1 := excelize.CellNameToCoordinates(m.GetStartAxis())
		c2, r2, err2 := excelize.CellNameToCoordinates(m.GetEndAxis())
		if err1 != nil || err2 != nil {
			continue
		}
		for r := r1; r <= r2; r++ {
			for len(grid) < r {
				grid = append(grid, nil)
			}
			for c := c1; c <= c2; c++ {
				for len(grid[r-1]) < c {
					grid[r-1] = append(grid[r-1], "")
				}
				grid[r-1][c-1] = m.GetCellValue()
			}
		}
	}
	// The header is the first row naming two or more different columns (a
	// merged title row repeats one value).
	head := -1
	for i, row := range grid {
		distinct := map[string]bool{}
		for _, v := range row {
			if v = strings.TrimSpace(v); v != "" {
				distinct[v] = true
			}
		}
		if len(distinct) >= 2 {
			head = i
			break
		}
	}
	if head < 0 {
		return nil, nil, nil, medmatch.Errorf(medmatch.EINVALID, "header", "sheet %q has no header row (a row naming two or more columns)", sheet)
	}
	header := grid[head]
	for len(header) > 0 && strings.TrimSpace(header[len(header)-1]) == "" {
		header = header[:len(header)-1]
	}
	cols, err := mapHeaderAt(header, kind, fmt.Sprintf("sheet %q row %d", sheet, head+1), mapping)
	if err != nil {
		return nil, nil, nil, err
	}
	var rows []Row
	var bad []RowReport
	for i := head + 1; i < len(grid); i++ {
		vals := grid[i]
		empty := true
		for _, v := range vals {
			if strings.TrimSpace(v) != "" {
				empty = false
			}
		}
		if empty {
			continue
		}
		line := i + 1
		if len(vals) > len(cols) {
			extra := false
			for _, v := range vals[len(cols):] {
				extra = extra || strings.TrimSpace(v) != ""
			}
			if extra {
				bad = append(bad, reject(line, "", "has a value right of the last named column %s", columnName(len(cols)-1)))
				continue
			}
			vals = vals[:len(cols)]
		}
		for len(vals) < len(cols) {
			vals = append(vals, "")
		}
		r, rep := csvRow(cols, vals, line, kind)
		if rep != nil {
			bad = append(bad, *rep)
			continue
		}
		rows = append(rows, Row{Line: line, Record: r})
	}
	return rows, bad, columnsOf(cols, header), nil
}

// columnName is a spreadsheet column's letters (0 → A).
func columnName(i int) string {
	n, _ := excelize.ColumnNumberToName(i + 1)
	return n
}

// columnsOf maps each field path to the column it came from, "C 成熟度",
// for the row reports.
func columnsOf(cols, header []string) map[string]string {
	out := make(map[string]string, len(cols))
	for i, c := range cols {
		if c != "" {
			out[c] = columnName(i) + " " + strings.TrimSpace(header[i])
		}
	}
	return out
}
