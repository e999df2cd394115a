//! Dockerfile checks (`BOSUN-DF-*`).

mod parse;
mod shell;

pub use parse::{
    Args, Dockerfile, Heredoc, Instruction, MAX_INSTRUCTIONS, ParseError, Stage, parse,
};
use shell::Cmd;

use crate::aggregate::Collector;
use crate::{Finding, Location};

/// Build tools whose presence in a final image means it was built in place.
const BUILD_PACKAGES: &[&str] = &[
    "gcc",
    "g++",
    "gcc-c++",
    "clang",
    "make",
    "cmake",
    "build-essential",
    "build-base",
    "autoconf",
    "automake",
    "libtool",
    "golang",
    "golang-go",
    "go",
    "rustc",
    "cargo",
    "maven",
    "gradle",
    "openjdk-jdk",
];
/// Base images that are toolchains.
const TOOLCHAIN_IMAGES: &[&str] = &["golang", "rust", "gcc", "maven", "gradle", "buildpack-deps"];
/// Build commands run in the image itself.
const BUILD_COMMANDS: &[(&str, &str)] = &[
    ("go", "build"),
    ("cargo", "build"),
    ("mvn", "package"),
    ("mvn", "install"),
    ("gradle", "build"),
    ("make", ""),
];
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "ACCESS_KEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
    "AUTH_KEY",
];
const SHELLS: &[&str] = &["sh", "bash", "dash", "zsh", "ash", "ksh"];
const ARCHIVE_SUFFIXES: &[&str] = &[
    ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz", ".tar.zst",
    ".tar.lz",
];

struct Ctx<'a> {
    df: &'a Dockerfile,
    file: &'a str,
    out: Collector,
}

impl Ctx<'_> {
    fn push(&mut self, id: &str, line: usize, stage: Option<&Stage>, message: String) {
        let object = stage.map(|s| match &s.name {
            Some(n) => format!("FROM {} AS {n}", s.image),
            None => format!("FROM {}", s.image),
        });
        self.out.push(Finding::new(
            id,
            message,
            Location {
                file: self.file.to_string(),
                line: Some(line),
                object,
                path: None,
            },
        ));
    }
}

/// Every finding in one parsed Dockerfile; `file` names it in locations.
pub fn check(df: &Dockerfile, file: &str) -> Vec<Finding> {
    let mut cx = Ctx {
        df,
        file,
        out: Collector::default(),
    };
    let final_idx = df.stages.len().checked_sub(1);
    // The final stage and the stages it is built FROM end up in the image.
    let mut shipping = vec![false; df.stages.len()];
    let mut cur = final_idx;
    let mut guard = 0;
    while let Some(i) = cur {
        if guard > df.stages.len() || shipping.get(i).copied().unwrap_or(true) {
            break;
        }
        shipping[i] = true;
        cur = df.stages[i].parent;
        guard += 1;
    }
    for i in &df.instructions {
        if i.keyword == "MAINTAINER" {
            cx.push(
                "BOSUN-DF-015",
                i.line,
                None,
                "MAINTAINER instruction".into(),
            );
        }
    }
    for (si, stage) in df.stages.iter().enumerate() {
        check_from(&mut cx, stage);
        check_stage(&mut cx, si, shipping[si]);
    }
    if let Some(fi) = final_idx {
        check_final(&mut cx, fi, &shipping);
    }
    cx.out.finish()
}

fn check_from(cx: &mut Ctx, stage: &Stage) {
    let line = cx.df.instructions[stage.from].line;
    let Some(image) = stage.resolved.as_deref() else {
        return;
    };
    if stage.parent.is_some() || image.eq_ignore_ascii_case("scratch") || image.is_empty() {
        return;
    }
    let r = ImageRef::parse(image);
    if r.digest.is_some() {
        return;
    }
    match r.tag {
        None => cx.push(
            "BOSUN-DF-001",
            line,
            Some(stage),
            format!("{image} has no tag (means :latest)"),
        ),
        Some("latest") => cx.push(
            "BOSUN-DF-001",
            line,
            Some(stage),
            format!("{image} uses :latest"),
        ),
        Some(_) => cx.push(
            "BOSUN-DF-002",
            line,
            Some(stage),
            format!("{image} is not pinned by digest"),
        ),
    }
}

/// The script a RUN executes: its command, or its heredoc bodies when the
/// command only feeds them to a shell.
fn run_script(i: &Instruction) -> String {
    let mut s = i.args.text();
    for h in &i.heredocs {
        s.push('\n');
        s.push_str(&h.body);
    }
    s
}

fn check_stage(cx: &mut Ctx, si: usize, shipping: bool) {
    let df = cx.df;
    let stage = &df.stages[si];
    let body = &df.instructions[(stage.from + 1).min(stage.end)..stage.end];
    let (mut cmds, mut entrypoints) = (0, 0);
    let pip_no_cache_env = body.iter().any(|i| {
        i.keyword == "ENV"
            && parse::env_pairs(&i.args.text())
                .iter()
                .any(|(k, _)| k == "PIP_NO_CACHE_DIR")
    });
    let mut pipefail_shell = false;
    for i in body {
        let line = i.line;
        let st = Some(stage);
        match i.keyword.as_str() {
            "SHELL" => pipefail_shell = i.args.text().contains("pipefail"),
            "CMD" => {
                cmds += 1;
                if cmds == 2 {
                    cx.push(
                        "BOSUN-DF-016",
                        line,
                        st,
                        "second CMD in this stage; only the last one applies".into(),
                    );
                }
            }
            "ENTRYPOINT" => {
                entrypoints += 1;
                if entrypoints == 2 {
                    cx.push(
                        "BOSUN-DF-016",
                        line,
                        st,
                        "second ENTRYPOINT in this stage; only the last one applies".into(),
                    );
                }
            }
            "EXPOSE" => {
                for p in i.args.text().split_whitespace() {
                    if p.split('/').next() == Some("22") {
                        cx.push("BOSUN-DF-017", line, st, format!("EXPOSE {p}"));
                    }
                }
            }
            "WORKDIR" => {
                let w = i.args.text();
                let w = w.trim().trim_matches('"');
                let windows_abs = w.len() >= 2 && w.as_bytes()[1] == b':';
                if !w.is_empty() && !w.starts_with('/') && !w.starts_with('$') && !windows_abs {
                    cx.push("BOSUN-DF-018", line, st, format!("WORKDIR {w} is relative"));
                }
            }
            "ENV" => {
                for (k, v) in parse::env_pairs(&i.args.text()) {
                    if is_secret_name(&k) && is_literal(&v) {
                        cx.push(
                            "BOSUN-DF-006",
                            line,
                            st,
                            format!("ENV {k} is set to a literal value"),
                        );
                    }
                }
            }
            "ARG" => check_arg(cx, i, st),
            "ADD" => check_add(cx, i, stage),
            "COPY" => {
                if let (Some(from), Some(name)) = (i.flag("from"), stage.name.as_deref())
                    && from.eq_ignore_ascii_case(name)
                {
                    cx.push(
                        "BOSUN-DF-023",
                        line,
                        st,
                        format!("COPY --from={from} in stage {name}"),
                    );
                }
            }
            "RUN" => check_run(cx, i, stage, shipping, pip_no_cache_env, pipefail_shell),
            _ => {}
        }
    }
    // Global ARGs with secret names are just as visible in history.
    if si == 0 {
        let first_from = df.instructions[stage.from].line;
        for i in df
            .instructions
            .iter()
            .filter(|i| i.keyword == "ARG" && i.line < first_from)
        {
            check_arg(cx, i, None);
        }
    }
}

fn check_arg(cx: &mut Ctx, i: &Instruction, stage: Option<&Stage>) {
    for (k, v) in parse::arg_pairs(&i.args.text()) {
        if is_secret_name(&k) {
            let msg = match v {
                Some(v) if is_literal(&v) => format!("ARG {k} has a literal default value"),
                _ => format!(
                    "ARG {k} is a build argument: its value is recorded in the image history"
                ),
            };
            cx.push("BOSUN-DF-006", i.line, stage, msg);
        }
    }
}

fn check_add(cx: &mut Ctx, i: &Instruction, stage: &Stage) {
    let words = match &i.args {
        Args::Exec(v) => v.clone(),
        Args::Shell(s) => parse::split_words(s),
    };
    // The last word is the destination; heredoc ADDs have no source files.
    let sources: Vec<&String> = if i.heredocs.is_empty() {
        words
            .split_last()
            .map(|(_, s)| s.iter().collect())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let is_url = |s: &str| {
        let l = s.to_ascii_lowercase();
        l.starts_with("http://") || l.starts_with("https://") || l.starts_with("git@")
    };
    let urls: Vec<&&String> = sources.iter().filter(|s| is_url(s)).collect();
    if !urls.is_empty() && i.flag("checksum").is_none() {
        for u in urls {
            cx.push("BOSUN-DF-004", i.line, Some(stage), format!("ADD {u}"));
        }
        return;
    }
    let archive = sources.iter().any(|s| {
        let l = s.to_ascii_lowercase();
        ARCHIVE_SUFFIXES.iter().any(|a| l.ends_with(a)) || s.contains('$') || s.contains('*')
    });
    if urls.is_empty() && !archive {
        cx.push(
            "BOSUN-DF-005",
            i.line,
            Some(stage),
            "ADD of local files that are not archives".into(),
        );
    }
}

fn check_run(
    cx: &mut Ctx,
    i: &Instruction,
    stage: &Stage,
    shipping: bool,
    pip_no_cache_env: bool,
    pipefail_shell: bool,
) {
    let script = run_script(i);
    let cmds = shell::commands(&script);
    let line = i.line;
    let st = Some(stage);
    let cache_mount = |target: &str| {
        i.flags.iter().any(|(n, v)| {
            n == "mount"
                && v.as_deref()
                    .is_some_and(|v| v.contains("type=cache") && v.contains(target))
        })
    };
    let lower = script.to_ascii_lowercase();

    if cmds.iter().any(|c| c.sudo) {
        cx.push("BOSUN-DF-010", line, st, "sudo in RUN".into());
    }
    for w in cmds.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        if a.piped
            && matches!(a.name.as_str(), "curl" | "wget")
            && SHELLS.contains(&b.name.as_str())
        {
            cx.push(
                "BOSUN-DF-007",
                line,
                st,
                format!("{} output piped into {}", a.name, b.name),
            );
        }
    }
    for c in &cmds {
        let substituted_fetch = c
            .args
            .iter()
            .any(|a| a.contains("$(curl") || a.contains("$(wget"));
        if SHELLS.contains(&c.name.as_str()) && substituted_fetch {
            cx.push(
                "BOSUN-DF-007",
                line,
                st,
                format!("{} runs a downloaded script", c.name),
            );
        }
    }
    let shell_form = matches!(i.args, Args::Shell(_));
    if shell_form && !pipefail_shell && cmds.iter().any(|c| c.piped) && !lower.contains("pipefail")
    {
        cx.push(
            "BOSUN-DF-024",
            line,
            st,
            "pipe without set -o pipefail".into(),
        );
    }
    if cmds.iter().any(|c| c.name == "cd") {
        cx.push("BOSUN-DF-014", line, st, "cd in RUN".into());
    }

    let apt_install = cmds
        .iter()
        .filter(|c| is_apt(c) && c.subcommand() == Some("install"));
    let mut any_apt_install = false;
    for c in apt_install {
        any_apt_install = true;
        if !c.has(&["--no-install-recommends"])
            && !c
                .args
                .iter()
                .any(|a| a.contains("Install-Recommends=false"))
        {
            cx.push(
                "BOSUN-DF-008",
                line,
                st,
                format!("{} install without --no-install-recommends", c.name),
            );
        }
        if !c.has_opt('y', "--yes") && !c.has(&["--assume-yes"]) {
            cx.push(
                "BOSUN-DF-020",
                line,
                st,
                format!("{} install without -y", c.name),
            );
        }
    }
    let apt_update = cmds
        .iter()
        .any(|c| is_apt(c) && c.subcommand() == Some("update"));
    if apt_update && !any_apt_install {
        cx.push(
            "BOSUN-DF-019",
            line,
            st,
            "apt-get update without install in the same RUN".into(),
        );
    }
    let apk_add = cmds
        .iter()
        .any(|c| c.name == "apk" && c.subcommand() == Some("add"));
    let apk_update = cmds
        .iter()
        .any(|c| c.name == "apk" && c.subcommand() == Some("update"));
    if apk_update && !apk_add {
        cx.push(
            "BOSUN-DF-019",
            line,
            st,
            "apk update without add in the same RUN".into(),
        );
    }
    let yum_install: Vec<&Cmd> = cmds
        .iter()
        .filter(|c| {
            matches!(c.name.as_str(), "yum" | "dnf" | "microdnf")
                && c.subcommand() == Some("install")
        })
        .collect();
    for c in &yum_install {
        if c.name != "microdnf" && !c.has_opt('y', "--assumeyes") {
            cx.push(
                "BOSUN-DF-020",
                line,
                st,
                format!("{} install without -y", c.name),
            );
        }
    }

    // Size rules only matter for layers that end up in the final image.
    if shipping {
        if any_apt_install && !lower.contains("/var/lib/apt/lists") && !cache_mount("/var/lib/apt")
        {
            cx.push(
                "BOSUN-DF-009",
                line,
                st,
                "apt-get install without rm -rf /var/lib/apt/lists/*".into(),
            );
        }
        let apk_no_cache = cmds
            .iter()
            .filter(|c| c.name == "apk" && c.subcommand() == Some("add"))
            .any(|c| !c.has(&["--no-cache"]));
        if apk_no_cache && !lower.contains("/var/cache/apk") && !cache_mount("/var/cache/apk") {
            cx.push(
                "BOSUN-DF-012",
                line,
                st,
                "apk add without --no-cache".into(),
            );
        }
        let pip = cmds.iter().any(|c| {
            let is_pip = c.name.starts_with("pip") && c.subcommand() == Some("install");
            let via_python = c.name.starts_with("python")
                && c.args
                    .windows(3)
                    .any(|w| w[0] == "-m" && w[1] == "pip" && w[2] == "install");
            (is_pip || via_python) && !c.has(&["--no-cache-dir"])
        });
        if pip && !pip_no_cache_env && !cache_mount("/root/.cache") {
            cx.push(
                "BOSUN-DF-013",
                line,
                st,
                "pip install without --no-cache-dir".into(),
            );
        }
        let cleaned = lower.contains("clean all")
            || lower.contains("/var/cache/yum")
            || lower.contains("/var/cache/dnf");
        if let Some(c) = yum_install.first()
            && !cleaned
        {
            cx.push(
                "BOSUN-DF-021",
                line,
                st,
                format!("{} install without {} clean all", c.name, c.name),
            );
        }
    }
}

fn is_apt(c: &Cmd) -> bool {
    c.name == "apt-get" || c.name == "apt"
}

fn check_final(cx: &mut Ctx, fi: usize, shipping: &[bool]) {
    let df = cx.df;
    let stage = &df.stages[fi];
    let from_line = df.instructions[stage.from].line;
    // The final stage and the stages it is built FROM, oldest first: the
    // last USER among them is the one the image runs as.
    let chain: Vec<&Stage> = df
        .stages
        .iter()
        .zip(shipping)
        .filter(|(_, s)| **s)
        .map(|(st, _)| st)
        .collect();
    let mut last_user = None;
    let mut healthcheck = false;
    for s in &chain {
        for i in &df.instructions[(s.from + 1).min(s.end)..s.end] {
            match i.keyword.as_str() {
                "USER" => last_user = Some(i),
                "HEALTHCHECK" => healthcheck = true,
                _ => {}
            }
        }
    }
    let base = chain
        .first()
        .and_then(|s| s.resolved.as_deref())
        .unwrap_or("");
    let base_nonroot = base.contains(":nonroot") || base.contains("-nonroot");
    match last_user {
        None if !base_nonroot && !base.eq_ignore_ascii_case("scratch") => cx.push(
            "BOSUN-DF-003",
            from_line,
            Some(stage),
            "no USER in the final stage: it runs as the base image's user (root unless the base sets another)".into(),
        ),
        Some(u) => {
            let user = u.args.text();
            let name = user.trim().split(':').next().unwrap_or("");
            if name == "root" || name == "0" {
                cx.push("BOSUN-DF-003", u.line, Some(stage), format!("USER {}", user.trim()));
            }
        }
        None => {}
    }
    if !healthcheck {
        cx.push(
            "BOSUN-DF-022",
            from_line,
            Some(stage),
            "no HEALTHCHECK in the final stage".into(),
        );
    }

    // Build tools in the shipped image.
    let mut evidence = Vec::new();
    let base_repo = ImageRef::parse(base).repository_name();
    if TOOLCHAIN_IMAGES.contains(&base_repo.as_str()) {
        evidence.push(format!("base image {base} is a toolchain"));
    }
    for s in &chain {
        for i in &df.instructions[(s.from + 1).min(s.end)..s.end] {
            if i.keyword != "RUN" {
                continue;
            }
            for c in shell::commands(&run_script(i)) {
                let installs = (is_apt(&c)
                    || matches!(c.name.as_str(), "yum" | "dnf" | "microdnf"))
                    && c.subcommand() == Some("install")
                    || c.name == "apk" && c.subcommand() == Some("add");
                if installs {
                    for a in c.args.iter().filter(|a| !a.starts_with('-')) {
                        let pkg = a.split(['=', ':']).next().unwrap_or(a);
                        if BUILD_PACKAGES.contains(&pkg)
                            || pkg.starts_with("gcc-")
                            || pkg.starts_with("g++-")
                        {
                            evidence.push(format!("installs {pkg} (line {})", i.line));
                        }
                    }
                }
                for (prog, sub) in BUILD_COMMANDS {
                    if c.name == *prog && (sub.is_empty() || c.subcommand() == Some(sub)) {
                        evidence.push(
                            format!("runs {} {} (line {})", prog, sub, i.line).replace("  ", " "),
                        );
                    }
                }
                if c.name == "npm"
                    && c.args.first().is_some_and(|a| a == "run")
                    && c.args.get(1).is_some_and(|a| a == "build")
                {
                    evidence.push(format!("runs npm run build (line {})", i.line));
                }
            }
        }
    }
    if !evidence.is_empty() {
        evidence.dedup();
        let how = if df.stages.len() == 1 {
            "single-stage build"
        } else {
            "final stage"
        };
        let shown: Vec<_> = evidence.iter().take(3).cloned().collect();
        cx.push(
            "BOSUN-DF-011",
            from_line,
            Some(stage),
            format!("{how}: {}", shown.join("; ")),
        );
    }
}

fn is_secret_name(name: &str) -> bool {
    let u = name.to_ascii_uppercase();
    // A name for where the secret lives is not the secret.
    if ["_FILE", "_PATH", "_DIR", "_URL_FILE", "_LENGTH", "_NAME"]
        .iter()
        .any(|s| u.ends_with(s))
    {
        return false;
    }
    SECRET_WORDS.iter().any(|w| u.contains(w))
}

/// A value written out in the Dockerfile, not just a reference to a variable.
fn is_literal(v: &str) -> bool {
    let v = v.trim();
    if v.is_empty() {
        return false;
    }
    let is_ref = (v.len() >= 3
        && v.starts_with("${")
        && v.ends_with('}')
        && !v[2..v.len() - 1].contains(['}', '$']))
        || (v.starts_with('$')
            && v[1..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'));
    !is_ref
}

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// Registry host, when the reference names one (`ghcr.io`, `localhost:5000`).
    pub registry: Option<&'a str>,
    /// Repository path without the registry (`library/nginx` is `nginx`).
    pub repository: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    pub fn parse(s: &'a str) -> ImageRef<'a> {
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (s, None),
        };
        let slash = rest.rfind('/').map(|p| p + 1).unwrap_or(0);
        let (name, tag) = match rest[slash..].rfind(':') {
            Some(p) => (&rest[..slash + p], Some(&rest[slash + p + 1..])),
            None => (rest, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, r))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first), r)
            }
            _ => (None, name),
        };
        ImageRef {
            registry,
            repository,
            tag,
            digest,
        }
    }

    /// The registry, with Docker Hub's aliases as `docker.io`.
    pub fn registry_host(&self) -> &'a str {
        match self.registry {
            None | Some("index.docker.io" | "registry-1.docker.io") => "docker.io",
            Some(r) => r,
        }
    }

    /// The repository as `docker.io/library/nginx` would name it.
    pub fn full_repository(&self) -> String {
        let host = self.registry_host();
        if host == "docker.io" && !self.repository.contains('/') {
            format!("docker.io/library/{}", self.repository)
        } else {
            format!("{host}/{}", self.repository)
        }
    }

    /// The last path component (`golang` for `docker.io/library/golang`).
    fn repository_name(&self) -> String {
        self.repository
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_refs() {
        let r = ImageRef::parse("localhost:5000/a/b:1.2@sha256:ab");
        assert_eq!(
            (r.registry, r.repository, r.tag, r.digest),
            (
                Some("localhost:5000"),
                "a/b",
                Some("1.2"),
                Some("sha256:ab")
            )
        );
        let r = ImageRef::parse("nginx");
        assert_eq!((r.registry_host(), r.tag), ("docker.io", None));
        assert_eq!(r.full_repository(), "docker.io/library/nginx");
        assert_eq!(
            ImageRef::parse("ghcr.io/x/y:v").full_repository(),
            "ghcr.io/x/y"
        );
    }

    #[test]
    fn secret_names() {
        assert!(
            is_secret_name("DB_PASSWORD")
                && is_secret_name("github_token")
                && is_secret_name("API_KEY")
        );
        assert!(!is_secret_name("POSTGRES_PASSWORD_FILE") && !is_secret_name("PATH"));
        assert!(
            is_literal("hunter2") && !is_literal("${PW}") && !is_literal("$PW") && !is_literal("")
        );
    }
}
