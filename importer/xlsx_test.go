package importer_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/bolt"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/importer"
)

const messyFixture = "../fixtures/import/messy-achievements.xlsx"

// writeMessyFixture makes the messy spreadsheet of fixtures/import (go
// test ./importer -run TestMessySpreadsheet -update): a merged title row,
// Chinese headers in an office's order with 序号 and 备注, merged
// institution and specialty cells, full-width digits, prices as offices
// write them, and three bad rows. The institutions are fictional.
func writeMessyFixture(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	sh := "成果汇总"
	f.SetSheetName("Sheet1", sh)
	rows := [][]any{
		{"2026年岚城市属医院科技成果汇总表（第一批）"},
		{"序号", "成果名称", "完成单位", "专科", "技术领域", "研发阶段", "专利类型", "专利状态", "专利号", "转化方式", "意向价格（万元）", "成果介绍", "技术经纪人", "备注"},
		{1, "可降解镁合金空心加压骨钉", "东岚骨科医院", "骨科", "生物材料、医疗器械", "临床前", "发明专利", "已授权", "ＣＮ２０２３１０１２３４５６．７", "许可/转让", "50-80万", "用于股骨颈骨折内固定的可降解镁合金空心加压骨钉，12个月内降解，免二次取出手术。", "技术经纪人（编号 TB-003）", ""},
		{2, "膝关节术后智能康复支具", nil, nil, "康复辅具", "样机", "实用新型", "申请中", "CN202420654321.0；CN202420654322.9", "合作开发", "面议", "内置角度与肌电传感的膝关节术后康复支具，居家训练数据实时回传康复科。", "", "样机已完成"},
		{3, "经导管主动脉瓣膜输送系统", "云岫市中心医院", "心血管", "医疗器械", "临床试验", "发明专利", "已授权", "CN202110987654.3", "作价入股", "1.2亿", "可回收可重定位的经导管主动脉瓣膜输送系统，已完成首批临床入组。", "", ""},
		{4, "血管内超声导管", "云岫市中心医院", "心血管", "医疗器械", "成熟", "发明专利", "已申请", "CN202310555555.5", "许可", "300万", "高频血管内超声成像导管。", "", "研发阶段写法不规范"},
		{5, "智能输液监测贴", "临溪医学院附属第二医院", "护理", "医疗器械", "样机", "实用新型", "已授权", "CN202320111111.1", "转让", "八十万", "贴附输液管的滴速与空瓶监测贴片。", "", "价格写成汉字"},
		{6, "鼻咽拭子采样机器人", "临溪医学院附属第二医院", "不存在的专科", "医疗器械", "样机", "发明专利", "已申请", "CN202310222222.2", "合作开发", "100-200万", "自动完成鼻咽拭子采样的机器人。", "", "专科不在词表中"},
		{7, "床旁快速凝血检测仪", "鹭汀医学影像研究院", "检验", "体外诊断", "注册申报", "发明专利", "已授权", "CN202211333333.3", "许可、转让", "１００万元以内", "十分钟出结果的床旁凝血四项检测仪。", "", ""},
		{},
		{8, "肿瘤射频消融针", "鹭汀医学影像研究院", "肿瘤", "医疗器械", "已上市", "发明专利", "已授权", "CN201911444444.4", "转让", "500万以上", "可调消融范围的多极射频消融针。", "", "表格中间有空行"},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sh, cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range [][2]string{{"A1", "N1"}, {"C3", "C4"}, {"D3", "D4"}} {
		if err := f.MergeCell(sh, m[0], m[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(messyFixture), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs(messyFixture); err != nil {
		t.Fatal(err)
	}
}

// TestMessySpreadsheet imports the messy fixture: the header is mapped
// from Chinese, merged cells filled, codes and prices normalised, and the
// three bad rows rejected naming their row and column; the dry run writes
// nothing.
func TestMessySpreadsheet(t *testing.T) {
	if *update {
		writeMessyFixture(t)
	}
	ctx := context.Background()
	s, err := bolt.Open(t.TempDir(), bolt.Options{Taxonomy: dict.MustTaxonomy()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	org := medmatch.Viewer{Role: medmatch.RoleOrganizer, KeyID: "org"}
	open := func() *os.File {
		f, err := os.Open(messyFixture)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	dry, err := importer.Import(ctx, s, org, messyFixture, open(), importer.XLSX, importer.Options{Kind: medmatch.KindAchievement, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if dry.Created != 5 || dry.Rejected != 3 || dry.Written {
		t.Fatalf("dry run: created %d, rejected %d, written %v; want 5, 3, false\n%v", dry.Created, dry.Rejected, dry.Written, dry.Problems())
	}
	wantBad := map[int]string{6: "F 研发阶段", 7: "K 意向价格（万元）", 8: "D 专科"}
	for _, r := range dry.Rows {
		if col, bad := wantBad[r.Line]; bad {
			if r.Action != medmatch.ActionReject || r.Column != col {
				t.Errorf("row %d: %s in column %q (%v); want rejected in %q", r.Line, r.Action, r.Column, r.Error, col)
			}
		} else if r.Action != medmatch.ActionCreate {
			t.Errorf("row %d: %s %v; want create", r.Line, r.Action, r.Error)
		}
	}
	if n, _ := s.Counts(ctx); n[medmatch.KindAchievement] != 0 {
		t.Fatalf("the dry run wrote %d achievements", n[medmatch.KindAchievement])
	}

	rep, err := importer.Import(ctx, s, org, messyFixture, open(), importer.XLSX, importer.Options{Kind: medmatch.KindAchievement, SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 5 || !rep.Written {
		t.Fatalf("import: created %d, written %v; want 5\n%v", rep.Created, rep.Written, rep.Problems())
	}
	byTitle := map[string]*medmatch.Achievement{}
	pg, err := s.List(ctx, org, medmatch.KindAchievement, medmatch.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range pg.Records {
		a := r.(*medmatch.Achievement)
		byTitle[a.Title] = a
	}
	bone := byTitle["可降解镁合金空心加压骨钉"]
	if bone == nil || bone.Maturity != medmatch.MaturityPreclinical || bone.IP == nil || bone.IP.Type != medmatch.IPInvention ||
		bone.IP.Status != medmatch.IPGranted || !reflect.DeepEqual(bone.IP.Numbers, []string{"CN202310123456.7"}) ||
		!reflect.DeepEqual(bone.TransferModes, []medmatch.TransferMode{medmatch.TransferLicense, medmatch.TransferAssignment}) ||
		bone.Price == nil || bone.Price.Min != 50 || bone.Price.Max != 80 || !reflect.DeepEqual(bone.Fields, []string{"生物材料", "医疗器械"}) {
		t.Errorf("row 3 stored as %+v (ip %+v, price %+v)", bone, bone.IP, bone.Price)
	}
	brace := byTitle["膝关节术后智能康复支具"]
	if brace == nil || brace.Institution != "东岚骨科医院" || brace.Specialty != "骨科" || brace.Price == nil || !brace.Price.Negotiable ||
		len(brace.IP.Numbers) != 2 || brace.IP.Status != medmatch.IPFiled {
		t.Errorf("row 4 (merged institution and specialty, 面议) stored as %+v", brace)
	}
	if v := byTitle["经导管主动脉瓣膜输送系统"]; v == nil || v.Price.Min != 12000 || v.Price.Max != 12000 {
		t.Errorf("row 5 (1.2亿) price %+v; want 12000 万元", v.Price)
	}
	if v := byTitle["床旁快速凝血检测仪"]; v == nil || v.Price.Max != 100 || v.Price.Min != 0 || v.Maturity != medmatch.MaturityRegistration {
		t.Errorf("row 9 (１００万元以内, 注册申报) stored with price %+v, maturity %s", v.Price, v.Maturity)
	}
	if v := byTitle["肿瘤射频消融针"]; v == nil || v.Price.Min != 500 || v.Maturity != medmatch.MaturityMarketed {
		t.Errorf("row 11 (after an empty row; 500万以上, 已上市) stored as %+v", v)
	}
}

func TestParsePrice(t *testing.T) {
	for _, c := range []struct {
		in   string
		want map[string]any // nil: an error
	}{
		{"50-80万", map[string]any{"min": 50.0, "max": 80.0}},
		{"50～80万元", map[string]any{"min": 50.0, "max": 80.0}},
		{"50万-1亿", map[string]any{"min": 50.0, "max": 10000.0}},
		{"1.2亿", map[string]any{"min": 12000.0, "max": 12000.0}},
		{"１００万元以内", map[string]any{"max": 100.0}},
		{"300万以上", map[string]any{"min": 300.0}},
		{"200", map[string]any{"min": 200.0, "max": 200.0}},
		{"1,200万", map[string]any{"min": 1200.0, "max": 1200.0}},
		{"面议", map[string]any{"negotiable": true}},
		{"面议（参考300万）", map[string]any{"negotiable": true, "min": 300.0, "max": 300.0}},
		{"八十万", nil},
		{"", nil},
		{"50-", nil},
	} {
		got, err := importer.ParsePrice(c.in)
		if c.want == nil {
			if err == nil {
				t.Errorf("ParsePrice(%q) = %v; want an error", c.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParsePrice(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// BenchmarkImportXLSX imports a generated 50,000-row workbook (the
// messy fixture's columns) into an embedded store: rows/s.
func BenchmarkImportXLSX(b *testing.B) {
	const n = 50000
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	header := []any{"序号", "成果名称", "完成单位", "专科", "技术领域", "研发阶段", "专利类型", "专利状态", "专利号", "转化方式", "意向价格（万元）", "成果介绍"}
	if err := sw.SetRow("A1", header); err != nil {
		b.Fatal(err)
	}
	stages := []string{"样机", "临床前", "临床试验", "已获证"}
	for i := range n {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		row := []any{i + 1, "批量导入测试成果 " + strconv.Itoa(i), "东岚骨科医院", "骨科", "生物材料、医疗器械", stages[i%len(stages)],
			"发明专利", "已授权", "CN2023" + strconv.Itoa(1000000+i) + ".1", "许可/转让", strconv.Itoa(50+i%100) + "-" + strconv.Itoa(200+i%100) + "万",
			"用于骨折内固定的可降解镁合金骨钉，12个月内降解，免二次取出手术；编号" + strconv.Itoa(i) + "。"}
		if err := sw.SetRow(cell, row); err != nil {
			b.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		b.Fatal(err)
	}
	org := medmatch.Viewer{Role: medmatch.RoleOrganizer, KeyID: "org"}
	b.ResetTimer()
	for range b.N {
		s, err := bolt.Open(b.TempDir(), bolt.Options{Taxonomy: dict.MustTaxonomy()})
		if err != nil {
			b.Fatal(err)
		}
		rep, err := importer.Import(context.Background(), s, org, "bench.xlsx", bytes.NewReader(buf.Bytes()), importer.XLSX, importer.Options{Kind: medmatch.KindAchievement})
		if err != nil || rep.Created != n {
			b.Fatalf("import: %v, created %d", err, rep.Created)
		}
		s.Close()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestSourceMapping: a source's own mapping names the columns the
// built-in synonyms do not know, or ignores them; a mapping to a
// non-field is an error naming the mapping.
func TestSourceMapping(t *testing.T) {
	ctx := context.Background()
	s, err := bolt.Open(t.TempDir(), bolt.Options{Taxonomy: dict.MustTaxonomy()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	org := medmatch.Viewer{Role: medmatch.RoleOrganizer, KeyID: "org"}
	csv := "成果名称,承担单位,专科,技术领域,研发阶段,成果介绍,附件\n镁合金骨钉,东岚骨科医院,骨科,生物材料,样机,可降解镁合金骨钉。,骨钉.pdf\n"
	imp := func(m map[string]string) (*importer.Report, error) {
		return importer.Import(ctx, s, org, "src.csv", strings.NewReader(csv), importer.CSV, importer.Options{Kind: medmatch.KindAchievement, DryRun: true, Mapping: m})
	}
	if _, err := imp(nil); medmatch.ErrorCode(err) != medmatch.EINVALID {
		t.Fatalf("without a mapping: %v; want the unknown column named", err)
	}
	rep, err := imp(map[string]string{"承担单位": "institution", " 附件 ": ""})
	if err != nil || rep.Created != 1 || rep.Rejected != 0 {
		t.Fatalf("with the mapping: %+v %v", rep, err)
	}
	if _, err := imp(map[string]string{"承担单位": "institution", "附件": "attachment"}); medmatch.ErrorCode(err) != medmatch.EINVALID || !strings.Contains(medmatch.ErrorMessage(err), "attachment") {
		t.Fatalf("a mapping to a non-field: %v; want an error naming it", err)
	}
}

// TestImportFlagsDuplicates: with CheckDuplicates, a row that re-types a
// catalogue record (here in traditional characters) and a row repeating
// an earlier row are flagged; a row updating a record is not flagged as
// a duplicate of that record.
func TestImportFlagsDuplicates(t *testing.T) {
	ctx := context.Background()
	s, err := bolt.Open(t.TempDir(), bolt.Options{Taxonomy: dict.MustTaxonomy()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	org := medmatch.Viewer{Role: medmatch.RoleOrganizer, KeyID: "org"}
	desc := "用于股骨颈骨折内固定的可降解镁合金空心加压骨钉，十二个月内完全降解，免除二次取出手术，已完成大动物实验。"
	if _, err := s.Create(ctx, org, &medmatch.Achievement{Meta: medmatch.Meta{ID: "ach-bone"}, Title: "可降解镁合金骨钉", Description: desc,
		Institution: "东岚骨科医院", Specialty: "骨科", Fields: []string{"生物材料"}, Maturity: medmatch.MaturityPreclinical}); err != nil {
		t.Fatal(err)
	}
	trad := "用於股骨頸骨折內固定的可降解鎂合金空心加壓骨釘，十二個月內完全降解，免除二次取出手術，已完成大動物實驗。"
	other := "床旁快速凝血检测仪，十分钟内给出凝血四项结果，适用于急诊和手术室。"
	csv := "id,成果名称,完成单位,专科,技术领域,研发阶段,成果介绍\n" +
		",可降解鎂合金骨釘,东岚骨科医院,骨科,生物材料,临床前," + trad + "\n" +
		",床旁凝血检测仪,临溪市人民医院,检验,体外诊断,样机," + other + "\n" +
		",床旁凝血检测仪（重复提交）,临溪市人民医院,检验,体外诊断,样机," + other + "\n" +
		"ach-bone,可降解镁合金骨钉,东岚骨科医院,骨科,生物材料,临床前," + desc + "\n"
	rep, err := importer.Import(ctx, s, org, "dups.csv", strings.NewReader(csv), importer.CSV, importer.Options{Kind: medmatch.KindAchievement, DryRun: true, CheckDuplicates: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int][]string{}
	for _, r := range rep.Rows {
		for _, sim := range r.Similar {
			got[r.Line] = append(got[r.Line], sim.ID)
		}
	}
	// Row 5 updates ach-bone: not its own duplicate, but row 2 copies it.
	want := map[int][]string{2: {"ach-bone"}, 4: {"row:3"}, 5: {"row:2"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("flagged %v; want %v", got, want)
	}
}
