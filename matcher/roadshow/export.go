package roadshow

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/medmatch/medmatch"
)

// Sheet names of the workbook, also the CSV tables.
const (
	SheetProjects    = "推介项目"
	SheetEnterprises = "企业日程"
	SheetByProject   = "项目日程"
	SheetGrid        = "时段桌位"
)

// Sheets lists the tables of an export in workbook order.
var Sheets = []string{SheetProjects, SheetEnterprises, SheetByProject, SheetGrid}

// Tables turns a plan into the rows of each sheet (header first).
func Tables(ev *medmatch.Event, p *Plan) map[string][][]string {
	title := map[string]string{}
	for _, s := range p.Selected {
		title[s.AchievementID] = s.Title
	}
	name := map[string]string{}
	for _, a := range p.Agenda {
		name[a.EnterpriseID] = a.Name
	}
	out := map[string][][]string{}

	rows := [][]string{{"序号", "成果编号", "项目名称", "单位", "专科", "筛选得分", "置顶", "主要服务企业"}}
	for i, s := range p.Selected {
		var serves []string
		for _, e := range s.Serves {
			serves = append(serves, fmt.Sprintf("%s（%.2f）", e.Name, e.Match))
		}
		pin := ""
		if s.Pinned {
			pin = "是"
		}
		rows = append(rows, []string{fmt.Sprint(i + 1), s.AchievementID, s.Title, s.Institution, s.Specialty,
			fmt.Sprintf("%.2f", s.Rubric.Score), pin, strings.Join(serves, "；")})
	}
	out[SheetProjects] = rows

	meetings := append([]PlannedMeeting(nil), p.Schedule.Meetings...)
	sort.SliceStable(meetings, func(i, j int) bool {
		if meetings[i].EnterpriseID != meetings[j].EnterpriseID {
			return meetings[i].EnterpriseID < meetings[j].EnterpriseID
		}
		return meetings[i].Slot < meetings[j].Slot
	})
	rows = [][]string{{"企业编号", "企业名称", "时段", "开始", "桌号", "成果编号", "项目名称", "来源", "匹配度"}}
	for _, m := range meetings {
		rows = append(rows, []string{m.EnterpriseID, name[m.EnterpriseID], fmt.Sprint(m.Slot + 1), m.Start, fmt.Sprint(m.Table),
			m.AchievementID, title[m.AchievementID], source(m), fmt.Sprintf("%.2f", m.Value)})
	}
	out[SheetEnterprises] = rows

	sort.SliceStable(meetings, func(i, j int) bool {
		if meetings[i].AchievementID != meetings[j].AchievementID {
			return meetings[i].AchievementID < meetings[j].AchievementID
		}
		return meetings[i].Slot < meetings[j].Slot
	})
	rows = [][]string{{"成果编号", "项目名称", "时段", "开始", "桌号", "企业编号", "企业名称", "来源"}}
	for _, m := range meetings {
		rows = append(rows, []string{m.AchievementID, title[m.AchievementID], fmt.Sprint(m.Slot + 1), m.Start, fmt.Sprint(m.Table),
			m.EnterpriseID, name[m.EnterpriseID], source(m)})
	}
	out[SheetByProject] = rows

	tables := 0
	for _, s := range ev.Slots {
		tables = max(tables, s.Tables)
	}
	header := []string{"时段", "开始"}
	for t := 1; t <= tables; t++ {
		header = append(header, fmt.Sprintf("%d号桌", t))
	}
	rows = [][]string{header}
	cell := map[[2]int]string{}
	for _, m := range p.Schedule.Meetings {
		cell[[2]int{m.Slot, m.Table}] = name[m.EnterpriseID] + " × " + title[m.AchievementID]
	}
	for s, sl := range ev.Slots {
		row := []string{fmt.Sprint(s + 1), sl.Start}
		for t := 1; t <= tables; t++ {
			switch {
			case t > sl.Tables:
				row = append(row, "—")
			default:
				row = append(row, cell[[2]int{s, t}])
			}
		}
		rows = append(rows, row)
	}
	out[SheetGrid] = rows
	return out
}

func source(m PlannedMeeting) string {
	if m.Requested {
		return "企业申请"
	}
	return "系统推荐"
}

// WriteXLSX writes the plan as a workbook with one sheet per table.
func WriteXLSX(w io.Writer, ev *medmatch.Event, p *Plan) error {
	f := excelize.NewFile()
	defer f.Close()
	tables := Tables(ev, p)
	for i, name := range Sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return err
		}
		for r, row := range tables[name] {
			cell, err := excelize.CoordinatesToCellName(1, r+1)
			if err != nil {
				return err
			}
			vals := make([]any, len(row))
			for c, v := range row {
				vals[c] = v
			}
			if err := f.SetSheetRow(name, cell, &vals); err != nil {
				return err
			}
		}
		if err := f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return err
		}
	}
	return f.Write(w)
}

// ReadXLSX reads a workbook written by WriteXLSX back into its tables.
func ReadXLSX(r io.Reader) (map[string][][]string, error) {
	f, err := excelize.OpenReader(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string][][]string{}
	for _, name := range f.GetSheetList() {
		rows, err := f.GetRows(name)
		if err != nil {
			return nil, err
		}
		out[name] = rows
	}
	return out, nil
}

// WriteCSV writes one table of the plan as CSV (UTF-8 with a byte-order
// mark, which spreadsheet programs need to read Chinese).
func WriteCSV(w io.Writer, ev *medmatch.Event, p *Plan, sheet string) error {
	rows, ok := Tables(ev, p)[sheet]
	if !ok {
		return medmatch.Errorf(medmatch.EINVALID, "sheet", "no table %q (want one of %s)", sheet, strings.Join(Sheets, ", "))
	}
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

var printPage = template.Must(template.New("agenda").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{.Event.Title}} · 洽谈日程</title>
<style>
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.15em;margin:0 0 .5em}
.meta{color:#555;margin-bottom:1em}
table{border-collapse:collapse;width:100%;margin:.5em 0 1em}
th,td{border:1px solid #999;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#eee}
section{page-break-after:always;break-after:page}
section:last-child{page-break-after:auto;break-after:auto}
.none{color:#777}
@media print{body{margin:0}.noprint{display:none}}
</style></head><body>
<p class="noprint"><button onclick="window.print()">打印</button></p>
{{range .Pages}}<section>
<h1>{{$.Event.Title}}</h1>
<div class="meta">{{$.Event.Date}}{{if $.Event.Venue}} · {{$.Event.Venue}}{{end}}</div>
<h2>{{.Name}} 洽谈日程</h2>
{{if .Rows}}<table><thead><tr><th>时段</th><th>开始</th><th>桌号</th><th>项目</th><th>来源</th></tr></thead><tbody>
{{range .Rows}}<tr><td>{{.Slot}}</td><td>{{.Start}}</td><td>{{.Table}}</td><td>{{.Title}}</td><td>{{.Source}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="none">暂无安排的洽谈。</p>{{end}}
{{if .Recommended}}<p>推荐关注的项目：{{range $i, $r := .Recommended}}{{if $i}}、{{end}}{{$r}}{{end}}</p>{{end}}
</section>
{{end}}</body></html>
`))

type printRow struct {
	Slot, Table          int
	Start, Title, Source string
}

type printPageData struct {
	Name        string
	Rows        []printRow
	Recommended []string
}

// WriteHTML writes the printable agenda: one page per enterprise.
func WriteHTML(w io.Writer, ev *medmatch.Event, p *Plan) error {
	title := map[string]string{}
	for _, s := range p.Selected {
		title[s.AchievementID] = s.Title
	}
	var pages []printPageData
	for _, a := range p.Agenda {
		pg := printPageData{Name: a.Name}
		for _, m := range p.Schedule.Meetings {
			if m.EnterpriseID == a.EnterpriseID {
				pg.Rows = append(pg.Rows, printRow{Slot: m.Slot + 1, Table: m.Table, Start: m.Start, Title: title[m.AchievementID], Source: source(m)})
			}
		}
		sort.Slice(pg.Rows, func(i, j int) bool { return pg.Rows[i].Slot < pg.Rows[j].Slot })
		for _, r := range a.Recommendations[:min(3, len(a.Recommendations))] {
			pg.Recommended = append(pg.Recommended, r.Title)
		}
		pages = append(pages, pg)
	}
	var b bytes.Buffer
	if err := printPage.Execute(&b, map[string]any{"Event": ev, "Pages": pages}); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}
