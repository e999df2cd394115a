//! The rule table: every rule's stable id, severity and text. Ids never
//! change meaning; a retired rule's id is not reused.

use crate::{Profile, Severity};

/// One rule's metadata, as rendered in reports and SARIF `rules[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    /// One line: what goes wrong if this is left as is.
    pub why: &'static str,
    /// One line: what to change.
    pub fix: &'static str,
    /// For Pod Security Standards controls, the profile that defines it.
    pub profile: Option<Profile>,
    pub help_url: &'static str,
}

const DF_DOC: &str = "https://docs.docker.com/build/building/best-practices/";
const PSS_DOC: &str = "https://kubernetes.io/docs/concepts/security/pod-security-standards/";
const K8S_SC_DOC: &str =
    "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/";
const OCI_ANN: &str = "https://github.com/opencontainers/image-spec/blob/main/annotations.md";

use Severity::{Critical, High, Low, Medium};

macro_rules! r {
    ($id:literal, $sev:expr, $profile:expr, $title:literal, $why:literal, $fix:literal, $url:expr) => {
        Rule {
            id: $id,
            severity: $sev,
            title: $title,
            why: $why,
            fix: $fix,
            profile: $profile,
            help_url: $url,
        }
    };
}

const B: Option<Profile> = Some(Profile::Baseline);
const R: Option<Profile> = Some(Profile::Restricted);

static RULES: &[Rule] = &[
    // Dockerfiles.
    r!(
        "BOSUN-DF-001",
        Medium,
        None,
        "Base image uses :latest or no tag",
        "The build silently picks up whatever the tag points to today, so builds are not reproducible and a compromised or broken upstream image flows straight in.",
        "Name an explicit version tag, and pin it by digest (FROM image:1.2.3@sha256:...).",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-002",
        Low,
        None,
        "Base image not pinned by digest",
        "A tag can be moved to different content at any time; only a digest names exactly what was reviewed.",
        "Append the digest: FROM image:tag@sha256:<digest> (and let a bot such as Renovate update it).",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-003",
        High,
        None,
        "Final stage runs as root",
        "A process running as root in the container is root on the host if it escapes, and can modify everything in the image at run time.",
        "Add a non-root user and end the final stage with USER <name or uid> (not root or 0).",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-004",
        Medium,
        None,
        "ADD downloads from a URL",
        "ADD fetches remote content without any checksum check, so what ends up in the image depends on the server at build time.",
        "Download with curl or wget in a RUN step and verify a checksum, or use ADD --checksum=sha256:...",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-005",
        Low,
        None,
        "ADD used where COPY fits",
        "ADD also extracts archives and fetches URLs, so using it for plain files hides intent and can unpack content unexpectedly.",
        "Use COPY for local files and directories; keep ADD for local tar archives that must be extracted.",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-006",
        High,
        None,
        "Secret in ENV or ARG",
        "ENV and ARG values are stored in the image configuration and history, readable by anyone who can pull the image.",
        "Pass secrets at build time with RUN --mount=type=secret and at run time from a secret store, never as ENV/ARG literals.",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-007",
        High,
        None,
        "Remote script piped into a shell",
        "curl | sh runs whatever the server returns, unverified; a compromised or spoofed server owns the build.",
        "Download the script to a file, verify its checksum or signature, then run it.",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-008",
        Low,
        None,
        "apt-get install without --no-install-recommends",
        "Recommended packages add size and attack surface the image does not need.",
        "Use apt-get install -y --no-install-recommends <packages>.",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-009",
        Low,
        None,
        "apt lists not removed in the same RUN",
        "The package lists stay in the layer (tens of MB) and go stale; removing them in a later step does not shrink the image.",
        "End the RUN that calls apt-get with && rm -rf /var/lib/apt/lists/*.",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-010",
        Medium,
        None,
        "sudo used in a build step",
        "Build steps already run as the current USER; sudo in an image means sudo is installed and configured, a privilege-escalation path at run time.",
        "Switch with USER root for the step that needs it and back to the unprivileged user, and do not install sudo.",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-011",
        Medium,
        None,
        "Build tools in the final image",
        "Compilers and build tools ship in the image that runs, adding size and tools an attacker can use.",
        "Build in a first stage and COPY --from=build only the artifacts into a minimal final stage.",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-012",
        Low,
        None,
        "apk add without --no-cache",
        "The apk index stays in the layer, adding size for nothing.",
        "Use apk add --no-cache <packages>.",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-013",
        Low,
        None,
        "pip install without --no-cache-dir",
        "pip's download cache stays in the layer, often tens of MB.",
        "Use pip install --no-cache-dir (or set PIP_NO_CACHE_DIR=1).",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-014",
        Low,
        None,
        "cd in RUN instead of WORKDIR",
        "A cd only lasts for one RUN, which makes later steps depend on a directory they do not name.",
        "Use WORKDIR /path to change directory for the following instructions.",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-015",
        Low,
        None,
        "MAINTAINER is deprecated",
        "MAINTAINER is deprecated and not shown by tools that read OCI labels.",
        "Use LABEL org.opencontainers.image.authors=\"...\" instead.",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-016",
        Medium,
        None,
        "More than one CMD or ENTRYPOINT in a stage",
        "Only the last one takes effect; the earlier ones are dead code that misleads readers.",
        "Keep a single CMD and a single ENTRYPOINT per stage.",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-017",
        Medium,
        None,
        "SSH port 22 exposed",
        "Running sshd in a container adds a remotely reachable login service; containers are entered with exec, not SSH.",
        "Remove EXPOSE 22 and the SSH server; use kubectl exec / docker exec.",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-018",
        Low,
        None,
        "Relative WORKDIR",
        "A relative WORKDIR depends on every earlier WORKDIR, which makes the directory easy to get wrong.",
        "Use an absolute path: WORKDIR /app.",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-019",
        Medium,
        None,
        "Package manager update without install in the same RUN",
        "A cached layer with an old package index is reused by later installs, which then install stale or missing versions.",
        "Run apt-get update && apt-get install ... in one RUN (likewise apk, yum, dnf).",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-020",
        Low,
        None,
        "Package install without -y",
        "Without -y the package manager waits for a confirmation no one gives, and the build fails or hangs.",
        "Use apt-get install -y (yum/dnf install -y).",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-021",
        Low,
        None,
        "yum/dnf cache not cleaned in the same RUN",
        "The package cache stays in the layer and inflates the image.",
        "End the RUN with && yum clean all (or dnf clean all).",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-022",
        Low,
        None,
        "No HEALTHCHECK in the final stage",
        "Without a health check the runtime cannot tell a hung process from a healthy one (Kubernetes uses probes instead).",
        "Add HEALTHCHECK CMD <probe>, or HEALTHCHECK NONE when probes are defined elsewhere.",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-023",
        Medium,
        None,
        "COPY --from refers to its own stage",
        "A stage cannot copy from itself; the build fails or copies from an image of the same name.",
        "Refer to an earlier stage name or an explicit image.",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-024",
        Low,
        None,
        "Pipe in RUN without pipefail",
        "A shell pipeline's status is that of its last command, so a failed download or build step in the middle passes silently.",
        "Start the step with set -o pipefail && ..., or set SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"].",
        DF_DOC
    ),
    r!(
        "BOSUN-DF-025",
        High,
        None,
        "Secret in the Dockerfile",
        "A credential in ENV, ARG, RUN or LABEL is written into the image's config or history, where anyone who can pull the image reads it.",
        "Remove it and revoke it; pass build secrets with RUN --mount=type=secret and runtime secrets from the orchestrator.",
        DF_DOC
    ),
    // Kubernetes: Pod Security Standards, baseline.
    r!(
        "BOSUN-K8S-PSS-B-001",
        High,
        B,
        "HostProcess container",
        "Windows HostProcess containers run with full access to the host.",
        "Remove securityContext.windowsOptions.hostProcess (or set it to false) at pod and container level.",
        PSS_DOC
    ),
    r!(
        "BOSUN-K8S-PSS-B-002",
        High,
        B,
        "Host namespaces shared",
        "hostNetwork, hostPID or hostIPC let the pod see and reach the node's network, processes or shared memory.",
        "Remove hostNetwork, hostPID and hostIPC (or set them to false).",
        PSS_DOC
    ),
    r!(
        "BOSUN-K8S-PSS-B-003",
        Critical,
        B,
        "Privileged container",
        "A privileged container has every capability and all host devices: it is root on the node.",
        "Remove securityContext.privileged (or set it to false) and grant only the capabilities needed.",
        PSS_DOC
    ),
    r!(
        "BOSUN-K8S-PSS-B-004",
        High,
        B,
        "Capability beyond the baseline set",
        "Capabilities such as SYS_ADMIN or NET_RAW allow container escapes and attacks on the node's network.",
        "Add only capabilities from the baseline list (AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT).",
        PSS_DOC
    ),
    r!(
        "BOSUN-K8S-PSS-B-005",
        High,
        B,
        "hostPath volume",
        "A hostPath volume exposes the node's filesystem to the pod, a common path to node takeover.",
        "Use emptyDir, a ConfigMap/Secret, or a PersistentVolumeClaim instead of hostPath.",
        PSS_DOC
    ),
    r!(
        "BOSUN-K8S-PSS-B-006",
        Medium,
        B,
        "Host port",
        "A hostPort binds directly on the node, bypassing network policies and limiting scheduling.",
        "Remove hostPort and expose the pod with a Service.",
        PSS_DOC
    ),
    r!(
        "BOSUN-K8S-PSS-B-007",
        Medium,
        B,
        "AppArmor profile overridden",
        "An Unconfined AppArmor profile removes the confinement the runtime applies by default.",
        "Leave the AppArmor profile unset or use RuntimeDefault / Localhost.",
        PSS_DOC
    ),
    r!(
        "BOSUN-K8S-PSS-B-008",
        Medium,
        B,
        "Custom SELinux options",
        "Setting the SELinux type, user or role can lift the confinement of the container's label.",
        "Leave seLinuxOptions.user and role unset and the type unset or one of container_t, container_init_t, container_kvm_t, container_engine_t.",
        PSS_DOC
    ),
    r!(
        "BOSUN-K8S-PSS-B-009",
        Medium,
        B,
        "Unmasked /proc mount",
        "procMount: Unmasked exposes kernel interfaces under /proc that the runtime normally masks.",
        "Remove securityContext.procMount or set it to Default.",
        PSS_DOC
    ),
    r!(
        "BOSUN-K8S-PSS-B-010",
        High,
        B,
        "Seccomp explicitly Unconfined",
        "An Unconfined seccomp profile lets the container make every system call, including rarely needed dangerous ones.",
        "Set seccompProfile.type to RuntimeDefault (or Localhost) instead of Unconfined.",
        PSS_DOC
    ),
    r!(
        "BOSUN-K8S-PSS-B-011",
        Medium,
        B,
        "Unsafe sysctl",
        "Sysctls outside the safe set are not isolated between pods and can affect the whole node.",
        "Only set sysctls from the safe set (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, ...).",
        PSS_DOC
    ),
    // Kubernetes: Pod Security Standards, restricted.
    r!(
        "BOSUN-K8S-PSS-R-001",
        Medium,
        R,
        "Volume type not allowed by restricted",
        "Volume types other than the restricted list (configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret) reach node or network storage directly.",
        "Use one of the allowed volume types; provision other storage through a PersistentVolumeClaim.",
        PSS_DOC
    ),
    r!(
        "BOSUN-K8S-PSS-R-002",
        Medium,
        R,
        "Privilege escalation not disabled",
        "Without allowPrivilegeEscalation: false, setuid binaries can gain more privileges than the process started with.",
        "Set securityContext.allowPrivilegeEscalation: false on every container.",
        PSS_DOC
    ),
    r!(
        "BOSUN-K8S-PSS-R-003",
        Medium,
        R,
        "Not required to run as non-root",
        "Unless runAsNonRoot is true, a container runs as root whenever its image says so.",
        "Set securityContext.runAsNonRoot: true on the pod (or on every container).",
        PSS_DOC
    ),
    r!(
        "BOSUN-K8S-PSS-R-004",
        High,
        R,
        "runAsUser is 0 (root)",
        "Running as uid 0 gives the process root's privileges in the container and on the host if it escapes.",
        "Set runAsUser to a non-zero uid, or leave it unset with runAsNonRoot: true.",
        PSS_DOC
    ),
    r!(
        "BOSUN-K8S-PSS-R-005",
        Medium,
        R,
        "Seccomp profile not set",
        "The restricted profile requires a seccomp profile; without one the runtime may run the container unconfined.",
        "Set spec.securityContext.seccompProfile.type: RuntimeDefault (or Localhost).",
        PSS_DOC
    ),
    r!(
        "BOSUN-K8S-PSS-R-006",
        Medium,
        R,
        "Capabilities not dropped to the minimum",
        "The restricted profile requires dropping ALL capabilities and adding back at most NET_BIND_SERVICE.",
        "Set capabilities: {drop: [ALL]} and add only NET_BIND_SERVICE if a low port is needed.",
        PSS_DOC
    ),
    // Kubernetes: supply chain and hardening.
    r!(
        "BOSUN-K8S-001",
        Low,
        None,
        "Image not pinned by digest",
        "A tag can be moved to different content; only a digest guarantees that what runs is what was scanned and signed.",
        "Reference the image as repo:tag@sha256:<digest>.",
        "https://kubernetes.io/docs/concepts/containers/images/#image-names"
    ),
    r!(
        "BOSUN-K8S-002",
        Medium,
        None,
        "Image uses :latest or no tag",
        "What runs changes whenever the tag is pushed, and different nodes can run different versions.",
        "Use an explicit version tag, pinned by digest.",
        "https://kubernetes.io/docs/concepts/containers/images/#image-names"
    ),
    r!(
        "BOSUN-K8S-003",
        Low,
        None,
        "imagePullPolicy not Always for a tagged image",
        "With IfNotPresent or Never a node keeps running a stale copy of a moved tag, and any pod on the node can use a private image it already pulled.",
        "Pin the image by digest, or set imagePullPolicy: Always.",
        "https://kubernetes.io/docs/concepts/containers/images/#image-pull-policy"
    ),
    r!(
        "BOSUN-K8S-004",
        High,
        None,
        "Image from a registry not in the allow-list",
        "Images from unapproved registries bypass the organisation's scanning, signing and provenance controls.",
        "Mirror the image into an approved registry, or add the registry to config.allowed_registries in bosun.yaml.",
        "https://kubernetes.io/docs/concepts/containers/images/"
    ),
    r!(
        "BOSUN-K8S-005",
        Medium,
        None,
        "No CPU or memory limit",
        "A container without limits can starve its neighbours on the node (noisy neighbour, denial of service).",
        "Set resources.limits.cpu and resources.limits.memory.",
        "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/"
    ),
    r!(
        "BOSUN-K8S-006",
        Medium,
        None,
        "Service account token mounted automatically",
        "Every process in the pod can read the API token; a compromised container can then call the Kubernetes API.",
        "Set automountServiceAccountToken: false on the pod (or its ServiceAccount) unless it calls the API.",
        "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/"
    ),
    r!(
        "BOSUN-K8S-007",
        Medium,
        None,
        "Root filesystem is writable",
        "A writable root filesystem lets an attacker drop tools and modify binaries in the running container.",
        "Set securityContext.readOnlyRootFilesystem: true and mount emptyDir volumes where writes are needed.",
        K8S_SC_DOC
    ),
    r!(
        "BOSUN-K8S-008",
        Medium,
        None,
        "No NetworkPolicy restricts egress",
        "Without an egress policy a compromised pod can reach any address, including the cloud metadata service and the API server.",
        "Add a NetworkPolicy selecting the pod with policyTypes: [Egress] and only the destinations it needs.",
        "https://kubernetes.io/docs/concepts/services-networking/network-policies/"
    ),
    r!(
        "BOSUN-K8S-009",
        Medium,
        None,
        "Workload in the default namespace",
        "The default namespace usually has no policies, quotas or RBAC boundaries of its own.",
        "Set metadata.namespace to the application's own namespace.",
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/"
    ),
    r!(
        "BOSUN-K8S-010",
        High,
        None,
        "Secret passed as a literal environment variable",
        "A credential written into the manifest is in version control and visible to anyone who can read the object.",
        "Reference a Secret with valueFrom.secretKeyRef (or mount it as a file).",
        "https://kubernetes.io/docs/concepts/configuration/secret/"
    ),
    r!(
        "BOSUN-K8S-011",
        High,
        None,
        "Docker socket mounted",
        "The container runtime socket gives full control of every container on the node, i.e. root on the node.",
        "Do not mount /var/run/docker.sock or containerd/CRI-O sockets; use a dedicated build service.",
        PSS_DOC
    ),
    r!(
        "BOSUN-K8S-012",
        High,
        None,
        "Secret in a manifest",
        "A credential written in a manifest (an env value, args, a ConfigMap, or a Secret's stringData or base64 data) is in version control and readable by everyone who can read the repository or the object.",
        "Remove it and revoke it; reference a Secret created out of band (secretKeyRef), or use a sealed or external secret.",
        "https://kubernetes.io/docs/concepts/configuration/secret/"
    ),
    // Image configuration.
    r!(
        "BOSUN-IMG-001",
        High,
        None,
        "Image runs as root",
        "With no User (or uid 0) in the config, the container runs as root unless every deployment overrides it.",
        "Set USER to a non-root uid in the final stage of the build.",
        DF_DOC
    ),
    r!(
        "BOSUN-IMG-002",
        Low,
        None,
        "OCI traceability labels missing",
        "Without source, revision and creation labels an image cannot be traced back to the commit and build that produced it.",
        "Set org.opencontainers.image.source, .revision and .created labels at build time.",
        OCI_ANN
    ),
    r!(
        "BOSUN-IMG-003",
        Medium,
        None,
        "Image larger than the size budget",
        "Large images pull slowly, cost storage and usually carry packages (and vulnerabilities) the application does not use.",
        "Use a smaller base image, a multi-stage build, and remove build caches; or raise config.image_size_budget_mb.",
        DF_DOC
    ),
    r!(
        "BOSUN-IMG-004",
        High,
        None,
        "Shell or package manager in a distroless image",
        "The image claims to be distroless, but ships a shell or package manager an attacker can use after a compromise.",
        "Build from a distroless (non-debug) base and copy only the application; keep shells to -debug variants.",
        "https://github.com/GoogleContainerTools/distroless"
    ),
];

/// Every built-in rule, in id order within each family.
pub fn rules() -> &'static [Rule] {
    RULES
}

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every id the checks report is in the table (`Finding::new` relies on
    /// it), and every rule in the table is reported by some check.
    #[test]
    fn every_rule_is_used_and_every_used_id_exists() {
        let sources = [
            include_str!("dockerfile/mod.rs"),
            include_str!("k8s/mod.rs"),
            include_str!("k8s/pss.rs"),
            include_str!("k8s/secrets.rs"),
            include_str!("image.rs"),
        ]
        .concat();
        let used: std::collections::BTreeSet<&str> = sources
            .match_indices("\"BOSUN-")
            .filter_map(|(i, _)| sources[i + 1..].split('"').next())
            .collect();
        let table: std::collections::BTreeSet<&str> = rules().iter().map(|r| r.id).collect();
        assert_eq!(used, table);
    }

    #[test]
    fn ids_are_unique_and_texts_are_one_line() {
        let mut ids: Vec<_> = rules().iter().map(|r| r.id).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate rule ids");
        for r in rules() {
            assert!(!r.why.contains('\n') && !r.fix.contains('\n'), "{}", r.id);
            assert_eq!(r.id.contains("-PSS-"), r.profile.is_some(), "{}", r.id);
            assert_eq!(
                r.id.contains("-PSS-B-"),
                r.profile == Some(Profile::Baseline),
                "{}",
                r.id
            );
        }
    }
}
