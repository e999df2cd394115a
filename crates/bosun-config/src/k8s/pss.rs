//! The Pod Security Standards controls, as
//! <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
//! defines them: each control checks exactly the restricted fields and
//! allowed values the document lists.

use serde_json::Value;

use super::{At, container_name, containers, get, get_bool, get_str};

/// Baseline: capabilities that may be added.
const BASELINE_CAPS: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];
/// Baseline: the safe sysctls.
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];
/// Baseline: SELinux types allowed.
const SELINUX_TYPES: &[&str] = &[
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];
/// Restricted: the volume types allowed.
const RESTRICTED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];
const APPARMOR_ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";

fn ckeys<'a>(list: &'a str, name: &'a str, extra: &[&'a str]) -> Vec<String> {
    let mut k = vec![list.to_string(), format!("name: {name}")];
    k.extend(extra.iter().map(|s| s.to_string()));
    k
}

fn push_c(at: &mut At, id: &str, msg: String, path: String, keys: Vec<String>) {
    let k: Vec<&str> = keys.iter().map(String::as_str).collect();
    at.push(id, msg, &path, &k);
}

pub(super) fn check(at: &mut At, spec: &Value, template_meta: Option<&Value>) {
    let psc = spec.get("securityContext").unwrap_or(&Value::Null);
    let windows = get_str(spec, &["os", "name"]) == Some("windows");
    let all = containers(spec);

    // Baseline: HostProcess.
    if get_bool(psc, &["windowsOptions", "hostProcess"]) == Some(true) {
        at.push(
            "BOSUN-K8S-PSS-B-001",
            "pod securityContext.windowsOptions.hostProcess is true".into(),
            "securityContext.windowsOptions.hostProcess",
            &["securityContext", "hostProcess"],
        );
    }
    // Baseline: host namespaces.
    for f in ["hostNetwork", "hostPID", "hostIPC"] {
        if get_bool(spec, &[f]) == Some(true) {
            at.push("BOSUN-K8S-PSS-B-002", format!("{f} is true"), f, &[f]);
        }
    }
    // Baseline: hostPath volumes; restricted: volume types.
    for (i, v) in spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let vname = v.get("name").and_then(Value::as_str).unwrap_or("<unnamed>");
        let nk = format!("name: {vname}");
        if v.get("hostPath").is_some() {
            at.push(
                "BOSUN-K8S-PSS-B-005",
                format!("volume {vname} is a hostPath"),
                &format!("volumes[{i}].hostPath"),
                &["volumes", &nk],
            );
        }
        let types: Vec<&str> = v
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .filter(|k| *k != "name")
            .collect();
        if let Some(t) = types.iter().find(|t| !RESTRICTED_VOLUMES.contains(t)) {
            at.push(
                "BOSUN-K8S-PSS-R-001",
                format!("volume {vname} is of type {t}"),
                &format!("volumes[{i}].{t}"),
                &["volumes", &nk],
            );
        }
    }
    // Baseline: AppArmor, SELinux, seccomp at pod level.
    if let Some(t) = get_str(psc, &["appArmorProfile", "type"])
        && !matches!(t, "RuntimeDefault" | "Localhost")
    {
        at.push(
            "BOSUN-K8S-PSS-B-007",
            format!("pod appArmorProfile.type is {t}"),
            "securityContext.appArmorProfile.type",
            &["securityContext", "appArmorProfile"],
        );
    }
    if let Some(meta) = template_meta
        && let Some(ann) = meta.get("annotations").and_then(Value::as_object)
    {
        for (k, v) in ann {
            let v = v.as_str().unwrap_or("");
            if k.starts_with(APPARMOR_ANNOTATION)
                && v != "runtime/default"
                && !v.starts_with("localhost/")
            {
                at.push(
                    "BOSUN-K8S-PSS-B-007",
                    format!("annotation {k} is {v}"),
                    &format!("metadata.annotations[{k}]"),
                    &[k],
                );
            }
        }
    }
    selinux(
        at,
        psc,
        "pod",
        "securityContext.seLinuxOptions",
        &["securityContext".into(), "seLinuxOptions".into()],
    );
    let pod_seccomp = get_str(psc, &["seccompProfile", "type"]);
    if pod_seccomp == Some("Unconfined") {
        at.push(
            "BOSUN-K8S-PSS-B-010",
            "pod seccompProfile.type is Unconfined".into(),
            "securityContext.seccompProfile.type",
            &["securityContext", "seccompProfile"],
        );
    }
    // Baseline: sysctls.
    for (i, s) in psc
        .get("sysctls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let n = s.get("name").and_then(Value::as_str).unwrap_or("");
        if !SAFE_SYSCTLS.contains(&n) {
            at.push(
                "BOSUN-K8S-PSS-B-011",
                format!("sysctl {n} is not in the safe set"),
                &format!("securityContext.sysctls[{i}].name"),
                &["sysctls", &format!("name: {n}")],
            );
        }
    }
    // Restricted: pod-level runAsNonRoot / runAsUser.
    let pod_non_root = get_bool(psc, &["runAsNonRoot"]);
    if pod_non_root == Some(false) {
        at.push(
            "BOSUN-K8S-PSS-R-003",
            "pod runAsNonRoot is false".into(),
            "securityContext.runAsNonRoot",
            &["securityContext", "runAsNonRoot"],
        );
    }
    if get(psc, &["runAsUser"]).and_then(Value::as_i64) == Some(0) {
        at.push(
            "BOSUN-K8S-PSS-R-004",
            "pod runAsUser is 0".into(),
            "securityContext.runAsUser",
            &["securityContext", "runAsUser"],
        );
    }
    let pod_seccomp_ok = matches!(pod_seccomp, Some("RuntimeDefault" | "Localhost"));
    if !windows && pod_seccomp.is_some() && !pod_seccomp_ok {
        at.push(
            "BOSUN-K8S-PSS-R-005",
            format!("pod seccompProfile.type is {}", pod_seccomp.unwrap_or("")),
            "securityContext.seccompProfile.type",
            &["securityContext", "seccompProfile"],
        );
    }

    for (list, i, c) in all {
        let name = container_name(c);
        let p = format!("{list}[{i}].securityContext");
        let sc = c.get("securityContext").unwrap_or(&Value::Null);
        let k = |extra: &[&str]| ckeys(list, name, extra);
        if get_bool(sc, &["windowsOptions", "hostProcess"]) == Some(true) {
            push_c(
                at,
                "BOSUN-K8S-PSS-B-001",
                format!("container {name}: hostProcess is true"),
                format!("{p}.windowsOptions.hostProcess"),
                k(&["hostProcess"]),
            );
        }
        if get_bool(sc, &["privileged"]) == Some(true) {
            push_c(
                at,
                "BOSUN-K8S-PSS-B-003",
                format!("container {name}: privileged is true"),
                format!("{p}.privileged"),
                k(&["privileged"]),
            );
        }
        let add: Vec<&str> = get(sc, &["capabilities", "add"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let beyond: Vec<&str> = add
            .iter()
            .copied()
            .filter(|c| !BASELINE_CAPS.contains(c))
            .collect();
        if !beyond.is_empty() {
            push_c(
                at,
                "BOSUN-K8S-PSS-B-004",
                format!("container {name}: adds {}", beyond.join(", ")),
                format!("{p}.capabilities.add"),
                k(&["capabilities", "add"]),
            );
        }
        for (pi, port) in c
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(hp) = port.get("hostPort").and_then(Value::as_i64)
                && hp != 0
            {
                push_c(
                    at,
                    "BOSUN-K8S-PSS-B-006",
                    format!("container {name}: hostPort {hp}"),
                    format!("{list}[{i}].ports[{pi}].hostPort"),
                    k(&["hostPort"]),
                );
            }
        }
        if let Some(t) = get_str(sc, &["appArmorProfile", "type"])
            && !matches!(t, "RuntimeDefault" | "Localhost")
        {
            push_c(
                at,
                "BOSUN-K8S-PSS-B-007",
                format!("container {name}: appArmorProfile.type is {t}"),
                format!("{p}.appArmorProfile.type"),
                k(&["appArmorProfile"]),
            );
        }
        selinux(
            at,
            sc,
            &format!("container {name}"),
            &format!("{p}.seLinuxOptions"),
            &k(&["seLinuxOptions"]),
        );
        if let Some(m) = get_str(sc, &["procMount"])
            && m != "Default"
        {
            push_c(
                at,
                "BOSUN-K8S-PSS-B-009",
                format!("container {name}: procMount is {m}"),
                format!("{p}.procMount"),
                k(&["procMount"]),
            );
        }
        let seccomp = get_str(sc, &["seccompProfile", "type"]);
        if seccomp == Some("Unconfined") {
            push_c(
                at,
                "BOSUN-K8S-PSS-B-010",
                format!("container {name}: seccompProfile.type is Unconfined"),
                format!("{p}.seccompProfile.type"),
                k(&["seccompProfile"]),
            );
        }

        // Restricted.
        if !windows && get_bool(sc, &["allowPrivilegeEscalation"]) != Some(false) {
            push_c(
                at,
                "BOSUN-K8S-PSS-R-002",
                format!("container {name}: allowPrivilegeEscalation is not false"),
                format!("{p}.allowPrivilegeEscalation"),
                k(&["securityContext"]),
            );
        }
        match get_bool(sc, &["runAsNonRoot"]) {
            Some(false) => push_c(
                at,
                "BOSUN-K8S-PSS-R-003",
                format!("container {name}: runAsNonRoot is false"),
                format!("{p}.runAsNonRoot"),
                k(&["runAsNonRoot"]),
            ),
            None if pod_non_root != Some(true) => push_c(
                at,
                "BOSUN-K8S-PSS-R-003",
                format!("container {name}: runAsNonRoot is not set on the container or the pod"),
                format!("{p}.runAsNonRoot"),
                k(&[]),
            ),
            _ => {}
        }
        if get(sc, &["runAsUser"]).and_then(Value::as_i64) == Some(0) {
            push_c(
                at,
                "BOSUN-K8S-PSS-R-004",
                format!("container {name}: runAsUser is 0"),
                format!("{p}.runAsUser"),
                k(&["runAsUser"]),
            );
        }
        if !windows {
            match seccomp {
                Some("RuntimeDefault" | "Localhost") => {}
                Some(t) => push_c(
                    at,
                    "BOSUN-K8S-PSS-R-005",
                    format!("container {name}: seccompProfile.type is {t}"),
                    format!("{p}.seccompProfile.type"),
                    k(&["seccompProfile"]),
                ),
                None if !pod_seccomp_ok => push_c(
                    at,
                    "BOSUN-K8S-PSS-R-005",
                    format!("container {name}: no seccompProfile on the container or the pod"),
                    format!("{p}.seccompProfile"),
                    k(&[]),
                ),
                None => {}
            }
            let drops_all = get(sc, &["capabilities", "drop"])
                .and_then(Value::as_array)
                .is_some_and(|d| d.iter().any(|c| c.as_str() == Some("ALL")));
            let extra: Vec<&str> = add
                .iter()
                .copied()
                .filter(|c| *c != "NET_BIND_SERVICE")
                .collect();
            if !drops_all {
                push_c(
                    at,
                    "BOSUN-K8S-PSS-R-006",
                    format!("container {name}: capabilities.drop does not include ALL"),
                    format!("{p}.capabilities.drop"),
                    k(&["securityContext"]),
                );
            }
            if !extra.is_empty() {
                push_c(
                    at,
                    "BOSUN-K8S-PSS-R-006",
                    format!(
                        "container {name}: adds {} (only NET_BIND_SERVICE is allowed)",
                        extra.join(", ")
                    ),
                    format!("{p}.capabilities.add"),
                    k(&["capabilities", "add"]),
                );
            }
        }
    }
}

fn selinux(at: &mut At, sc: &Value, who: &str, path: &str, keys: &[String]) {
    let Some(o) = sc.get("seLinuxOptions") else {
        return;
    };
    let t = get_str(o, &["type"]).unwrap_or("");
    let mut bad = Vec::new();
    if !t.is_empty() && !SELINUX_TYPES.contains(&t) {
        bad.push(format!("type {t}"));
    }
    for f in ["user", "role"] {
        if let Some(v) = get_str(o, &[f]).filter(|v| !v.is_empty()) {
            bad.push(format!("{f} {v}"));
        }
    }
    if !bad.is_empty() {
        push_c(
            at,
            "BOSUN-K8S-PSS-B-008",
            format!("{who}: seLinuxOptions sets {}", bad.join(", ")),
            path.to_string(),
            keys.to_vec(),
        );
    }
}
