//! The people-facing report: plots, `report.html` and `summary.md` of run, sweep, tune and
//! compare; `fleetsim report DIR` re-rendering from the data files; and the page as a real
//! browser (headless Chromium) renders it.

use assert_cmd::Command;
use predicates::str::contains;
use std::path::{Path, PathBuf};

fn fleetsim() -> Command {
    Command::cargo_bin("fleetsim").unwrap()
}

const RUN_PLOTS: [&str; 4] = ["composition", "observed", "failures", "distributions"];

fn run_report(out: &Path, scenario: &str, extra: &[&str]) {
    fleetsim()
        .args(["run", scenario, "--replications", "6", "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

/// Asserts that an HTML page loads nothing from anywhere: no script, no style sheet link, no
/// image or font URL; the only URL allowed is the SVG namespace name, which is never fetched.
fn assert_self_contained(html: &str) {
    let lower = html.to_lowercase();
    for banned in [
        "<script", "<link", "<img", "<iframe", "src=", "url(", "@import",
    ] {
        assert!(!lower.contains(banned), "report.html contains `{banned}`");
    }
    let without_ns = lower.replace("http://www.w3.org/2000/svg", "");
    assert!(
        !without_ns.contains("http://") && !without_ns.contains("https://"),
        "report.html references an external URL"
    );
    for href in lower.split("href=\"").skip(1) {
        assert!(href.starts_with('#'), "a link leaves the page: {href:.40}");
    }
}

/// Parses an SVG file as XML and checks its root and size.
fn assert_valid_svg(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{} is not well-formed XML: {e}", path.display()));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg", "{}", path.display());
    assert!(
        root.attribute("viewBox").is_some(),
        "{} has no viewBox",
        path.display()
    );
    assert!(
        doc.descendants().filter(|n| n.has_tag_name("text")).count() > 3,
        "{} has no labels",
        path.display()
    );
}

/// Decodes a PNG and returns (width, height, share of pixels that are not white).
fn decode_png(path: &Path) -> (u32, u32, f64) {
    // png 0.18 reads from a buffered, seekable source.
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let decoder = png::Decoder::new(file);
    let mut reader = decoder
        .read_info()
        .unwrap_or_else(|e| panic!("{} is not a PNG: {e}", path.display()));
    let size = reader
        .output_buffer_size()
        .expect("a PNG frame that fits in memory");
    let mut buf = vec![0; size];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let total = pixels.len() / channels;
    let inked = pixels
        .chunks(channels)
        .filter(|p| p.iter().take(3).any(|&c| c < 240))
        .count();
    (info.width, info.height, inked as f64 / total as f64)
}

#[test]
fn run_writes_a_self_contained_report_with_valid_plots() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    run_report(&out, "scenarios/bad-release.toml", &[]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_self_contained(&html);
    for section in [
        "What happened",
        "Expectations",
        "Outcome metrics",
        "Gate timeline",
        "The scenario at a glance",
        "sn-10",        // a model in the fleet table
        "boot-failure", // the ground-truth defect
        "silent_rate",  // a gate check
        "What to do next",
        "Harm and failures by model, region and stage",
        "cancelled by the halt",
        "policy.timeout", // every policy knob
        "factor ×3",      // every defect parameter
        "What the gates read",
    ] {
        assert!(html.contains(section), "report.html lacks `{section}`");
    }
    // A halted release's devices that the halt stopped are cancelled, not "stranded" in the
    // story; the cards lead with what a halt is judged by.
    let story = &html[html.find("class=\"story\"").unwrap()..html.find("class=\"cards\"").unwrap()];
    assert!(story.contains("cancelled by the halt"), "{story}");
    let cards = &html[html.find("class=\"cards\"").unwrap()..];
    let at = |label: &str| {
        cards
            .find(label)
            .unwrap_or_else(|| panic!("no card `{label}`"))
    };
    assert!(
        at("time to detect") < at("time to 95 %"),
        "halt cards first"
    );
    // The next step names the check that fired and a command that answers the next question.
    let next = &html[html.find("id=\"next\"").unwrap()..];
    assert!(
        next.contains("fleetsim tune scenarios/bad-release.toml --param"),
        "{next:.2000}"
    );
    let breakdown = std::fs::read_to_string(out.join("breakdown.csv")).unwrap();
    assert!(
        breakdown
            .starts_with("population,model,region,stage,devices,targeted,updated,exposed,harmed"),
        "{breakdown}"
    );
    assert!(
        breakdown.contains("sensors,sn-10,eu-west,canary,"),
        "{breakdown}"
    );
    assert_eq!(html.matches("<svg").count(), RUN_PLOTS.len());
    for plot in RUN_PLOTS {
        assert_valid_svg(&out.join(format!("plots/{plot}.svg")));
        let (w, h, inked) = decode_png(&out.join(format!("plots/{plot}.png")));
        assert!(w >= 800 && h >= 300, "{plot}.png is {w}×{h}");
        // A drawn chart inks a few percent of its pixels at least; a blank one inks none.
        assert!(inked > 0.02, "{plot}.png looks blank ({inked:.3} inked)");
    }
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.starts_with("### fleetsim: bad-release"), "{md}");
    assert!(md.contains("| harmed |"), "{md}");
    assert!(md.contains("✅"), "the expectations are listed: {md}");
}

#[test]
fn report_command_renders_the_same_bytes_from_the_data_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    run_report(&out, "scenarios/bad-release.toml", &[]);
    let rendered: Vec<PathBuf> = ["report.html", "summary.md"]
        .iter()
        .map(PathBuf::from)
        .chain(
            RUN_PLOTS
                .iter()
                .map(|p| PathBuf::from(format!("plots/{p}.svg"))),
        )
        .chain(
            RUN_PLOTS
                .iter()
                .map(|p| PathBuf::from(format!("plots/{p}.png"))),
        )
        .collect();
    let before: Vec<Vec<u8>> = rendered
        .iter()
        .map(|f| std::fs::read(out.join(f)).unwrap())
        .collect();
    std::fs::remove_file(out.join("report.html")).unwrap();
    std::fs::remove_dir_all(out.join("plots")).unwrap();
    fleetsim()
        .arg("report")
        .arg(&out)
        .assert()
        .success()
        .stdout(contains("report.html"));
    for (f, b) in rendered.iter().zip(&before) {
        let again = std::fs::read(out.join(f)).unwrap();
        assert!(
            again == *b,
            "{} differs after `fleetsim report`",
            f.display()
        );
    }
    // The data files are untouched.
    assert!(out.join("replications.csv").is_file());
}

#[test]
fn report_command_refuses_a_folder_without_results() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    fleetsim()
        .arg("report")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("not a fleetsim results folder"));
    // Nothing was written into it.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1);
    fleetsim()
        .args(["report", "no/such/folder"])
        .assert()
        .code(2)
        .stderr(contains("no such folder"));
}

#[test]
fn no_report_writes_only_the_data_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    run_report(&out, "scenarios/seed-staged-rollout.toml", &["--no-report"]);
    assert!(out.join("summary.json").is_file());
    assert!(!out.join("report.html").exists());
    assert!(!out.join("plots").exists());
}

#[test]
fn sweep_tune_and_compare_write_their_reports() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("sweep");
    fleetsim()
        .args([
            "sweep",
            "scenarios/bad-release.toml",
            "--replications",
            "3",
            "--quiet",
        ])
        .args(["--param", "policy.stage[1].percent=2,10", "--out"])
        .arg(&sweep)
        .assert()
        .success();
    let tune = dir.path().join("tune");
    fleetsim()
        .args([
            "tune",
            "scenarios/bad-release.toml",
            "--replications",
            "3",
            "--quiet",
        ])
        .args([
            "--param",
            "policy.stage[1].gate.check[1].max=0.005,0.05",
            "--out",
        ])
        .arg(&tune)
        .assert()
        .success();
    let compare = dir.path().join("compare");
    fleetsim()
        .args([
            "compare",
            "scenarios/bad-release.toml",
            "--replications",
            "3",
            "--quiet",
        ])
        .args(["--candidate-set", "policy.stage[1].percent=10", "--out"])
        .arg(&compare)
        .assert()
        .code(predicates::ord::ge(0));
    for (folder, plot, heading) in [
        (&sweep, "tradeoff", "Trade-off"),
        (&tune, "tradeoff", "Recommendation"),
        (&compare, "compare", "Verdict"),
    ] {
        let html = std::fs::read_to_string(folder.join("report.html")).unwrap();
        assert_self_contained(&html);
        assert!(
            html.contains(heading),
            "{} lacks {heading}",
            folder.display()
        );
        assert_valid_svg(&folder.join(format!("plots/{plot}.svg")));
        let (_, _, inked) = decode_png(&folder.join(format!("plots/{plot}.png")));
        assert!(
            inked > 0.01,
            "{plot}.png of {} looks blank",
            folder.display()
        );
        assert!(folder.join("summary.md").is_file());
        // `fleetsim report` draws the same page and plot again from the data files alone.
        let files = [
            "report.html".to_string(),
            "summary.md".into(),
            format!("plots/{plot}.svg"),
        ];
        let before: Vec<Vec<u8>> = files
            .iter()
            .map(|f| std::fs::read(folder.join(f)).unwrap())
            .collect();
        fleetsim().arg("report").arg(folder).assert().success();
        for (f, b) in files.iter().zip(before) {
            assert!(std::fs::read(folder.join(f)).unwrap() == b, "{f} differs");
        }
    }
}

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            std::process::Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// The report as a person sees it: Chromium loads the page from disk, with no network, and
/// takes a screenshot. The page must parse (the DOM holds its sections and inline plots) and the
/// screenshot must show a drawn page, not a blank or an error page.
#[test]
fn report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "Chromium is required in CI (.ci/run installs Debian's `chromium`)"
        );
        eprintln!("skipped: no Chromium on this machine (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    run_report(&out, "scenarios/bad-release.toml", &[]);
    let url = format!("file://{}", out.join("report.html").display());
    let profile = dir.path().join("profile");
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--window-size=1280,2400",
    ];
    let dom = std::process::Command::new(browser)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&dom.stderr)
    );
    assert!(
        dom_text.contains("What happened"),
        "the page did not load: {dom_text:.300}"
    );
    // The sections that lead to a decision are in the page as the browser parsed it.
    for section in [
        "What to do next",
        "Harm and failures by model, region and stage",
        "By model",
        "By region",
        "By stage",
        "cancelled by the halt",
        "policy.preflight",
    ] {
        assert!(
            dom_text.contains(section),
            "the rendered page lacks `{section}`"
        );
    }
    assert_eq!(dom_text.matches("<svg").count(), RUN_PLOTS.len());
    let stderr = String::from_utf8_lossy(&dom.stderr);
    assert!(
        !stderr.contains("net::ERR"),
        "a resource failed to load: {stderr}"
    );
    let shot = dir.path().join("shot.png");
    let status = std::process::Command::new(browser)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(status.status.success());
    let (w, h, inked) = decode_png(&shot);
    assert_eq!((w, h), (1280, 2400));
    // Text, tables and charts ink well over 5 % of the first 2400 px of the page.
    assert!(
        inked > 0.05,
        "the screenshot looks blank ({inked:.3} inked)"
    );
}

#[test]
fn report_command_rejects_damaged_data_files_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    run_report(&out, "scenarios/seed-staged-rollout.toml", &["--no-report"]);
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    std::fs::write(out.join("summary.json"), &summary[..summary.len() / 2]).unwrap();
    fleetsim()
        .arg("report")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("summary.json"));
    std::fs::write(out.join("summary.json"), summary).unwrap();
    // A ragged CSV (a row with fewer cells than the header) is named, not a panic.
    let ts = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    std::fs::write(out.join("timeseries.csv"), format!("{ts}1,2\n")).unwrap();
    fleetsim()
        .arg("report")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("timeseries.csv"));
    assert!(!out.join("report.html").exists(), "nothing half-written");
}

/// `chaos` writes its campaign's page (it used to print a report path and write no page): the
/// schedules that broke an expectation with their reproducers, and every schedule drawn;
/// `fleetsim report` renders the same bytes from chaos.json and campaigns.csv.
#[test]
fn chaos_writes_a_report_page_for_its_campaign() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c");
    fleetsim()
        .args(["chaos", "tests/data/fragile.toml", "--out"])
        .arg(&out)
        .assert()
        .code(1)
        .stdout(contains(format!(
            "report: {}",
            out.join("report.html").display()
        )));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_self_contained(&html);
    for section in [
        "Schedules that break an expectation",
        "Every schedule drawn",
        "violations/campaign-",
        "breaks",
    ] {
        assert!(html.contains(section), "the chaos page lacks `{section}`");
    }
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.starts_with("### fleetsim chaos: "), "{md}");
    fleetsim().arg("report").arg(&out).assert().success();
    assert_eq!(
        std::fs::read_to_string(out.join("report.html")).unwrap(),
        html
    );
}
