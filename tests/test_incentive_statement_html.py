"""Statements as printable web pages: rendered from the same record as the Markdown, so
they say what it says; escaped, self-contained."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from attain.cli.main import main
from attain.incentive.statement_html import statement_html
from attain.incentive.statements import PeriodRecord, StatementRecord

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "tests" / "fixtures" / "incentive" / "targets.csv"
ACTUALS = ROOT / "scenarios" / "sample" / "actuals.csv"
PLANS = [ROOT / "rules" / "plan_field_rep.yaml", ROOT / "rules" / "plan_cloud_overlay.yaml"]
VOID = {"meta"}


class _Tags(HTMLParser):
    """Checks that every tag closes in order; collects the text and the tag names."""

    def __init__(self):
        super().__init__()
        self.stack, self.tags, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, f"</{tag}> closes nothing open"

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> _Tags:
    tags = _Tags()
    tags.feed(page)
    tags.close()
    assert tags.stack == []
    return tags


def test_a_statement_page_says_what_its_markdown_says(tmp_path):
    out = tmp_path / "out"
    args = ["payout", *map(str, PLANS), "--targets", str(TARGETS), "--actuals", str(ACTUALS)]
    assert main([*args, "--out", str(out), "--html"]) == 0
    markdown = (out / "statements" / "R00002.md").read_text()
    page = (out / "statements" / "R00002.html").read_text()
    tags = parse(page)
    # One table per period section, and each plan's credited deals.
    periods = [line for line in markdown.splitlines() if line.startswith("### 2027")]
    deal_tables = [line for line in markdown.splitlines() if line.startswith("### Credited")]
    assert len(deal_tables) == 2
    assert tags.tags.count("table") == len(periods) + len(deal_tables) > 12
    text = "".join(tags.text)
    assert "Plan field_rep_marginal" in text and "Plan cloud_overlay" in text
    # Every cell of every table, and every total, is on the page as written.
    for line in markdown.splitlines():
        if line.startswith("| ") and not line.startswith("| ---") and "| line |" not in line:
            for cell in line.strip("| ").split(" | "):
                assert cell.replace("`", "").replace("**", "") in text
        if line.startswith("**"):
            assert line.replace("**", "") in text
    assert "Payable in all plans this year:" in text and "version sha256:" in text
    assert "<script" not in page and "http" not in page.replace('lang="en"', "")


def record(**kw) -> StatementRecord:
    period = PeriodRecord("2027-01", [("a <b>bold</b> & co", "1.00", "x < y")], "1.00", [])
    base = {"rep_id": "R<1>", "who": "name: <i>", "plan": "p", "description": "d"}
    return StatementRecord(**{**base, "currency": "EUR", "periods": [period], **kw})


def test_text_is_escaped():
    page = statement_html(record(year="1.00"))
    tags = parse(page)
    assert "a <b>bold</b> & co" in "".join(tags.text)
    assert "<b>" not in page and "&lt;b&gt;bold&lt;/b&gt; &amp; co" in page
    assert "<strong>Payable now: 1.00 EUR</strong>" in page
    assert "<strong>Paid this year: 1.00 EUR</strong>" in page
    assert "<title>Statement: R&lt;1&gt;</title>" in page and "name: &lt;i&gt;" in page


def test_credited_deals_and_deal_breakdown_are_on_the_page_with_their_counts():
    deals = [("D1", "2027-01-05", "core", "50%", "500.00")]
    by_deal = [("Commission", "2027-01", "D1", "2027-01-05", "500.00", "8%", "40.00")]
    page = statement_html(record(deals=deals, n_deals=12, by_deal=by_deal, n_by_deal=1))
    text = "".join(parse(page).text)
    assert "Credited deals (12)" in text and "11 more in credited_deals.csv" in text
    assert "Earned by deal (1)" in text and "statement_deals.csv" not in text
    for cell in (*deals[0], *by_deal[0]):
        assert cell in text


def test_pages_only_when_asked(tmp_path):
    args = ["payout", str(PLANS[0]), "--targets", str(TARGETS), "--actuals", str(ACTUALS)]
    assert main([*args, "--out", str(tmp_path / "md")]) == 0
    assert not list((tmp_path / "md" / "statements").glob("*.html"))
    assert main([*args, "--out", str(tmp_path / "both"), "--html"]) == 0
    md = sorted(p.stem for p in (tmp_path / "both" / "statements").glob("*.md"))
    html = sorted(p.stem for p in (tmp_path / "both" / "statements").glob("*.html"))
    assert md == html and len(md) == 300
