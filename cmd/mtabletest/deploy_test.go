package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The Kubernetes Indexed Job and the GitHub Actions workflow in deploy/
// run the shards of one run and merge them. Debian's kubernetes-client
// (1.20) is too old for a client-side dry run of an Indexed Job and a CI
// machine does not have it, so these tests check the manifests' fields
// themselves, and that the mtabletest command lines in them are ones this
// command accepts.

// k8sJob is the part of a batch/v1 Job the tests read.
type k8sJob struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		CompletionMode       string `yaml:"completionMode"`
		Completions          int    `yaml:"completions"`
		Parallelism          int    `yaml:"parallelism"`
		BackoffLimitPerIndex *int   `yaml:"backoffLimitPerIndex"`
		Template             struct {
			Spec struct {
				RestartPolicy string `yaml:"restartPolicy"`
				Containers    []struct {
					Image        string   `yaml:"image"`
					Command      []string `yaml:"command"`
					Args         []string `yaml:"args"`
					VolumeMounts []struct {
						Name      string `yaml:"name"`
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []struct {
					Name                  string `yaml:"name"`
					PersistentVolumeClaim struct {
						ClaimName string `yaml:"claimName"`
					} `yaml:"persistentVolumeClaim"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", path))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(false)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// commandLine finds the line of script that runs mtabletest and returns
// its arguments (quotes removed) and the file its standard output is
// redirected to ("" if none).
func commandLine(t *testing.T, script, prefix string) (args []string, stdout string) {
	t.Helper()
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, prefix+" ") {
			continue
		}
		fields := strings.Fields(strings.TrimPrefix(line, prefix+" "))
		for i := 0; i < len(fields); i++ {
			f := strings.Trim(fields[i], `"`)
			if f == ">" && i+1 < len(fields) {
				stdout = strings.Trim(fields[i+1], `"`)
				i++
				continue
			}
			args = append(args, f)
		}
		return args, stdout
	}
	t.Fatalf("no line starting %q in the script:\n%s", prefix, script)
	return nil, ""
}

// expand substitutes the script's variables.
func expand(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "${"+k+"}", v)
		s = strings.ReplaceAll(s, "$"+k, v)
	}
	return s
}

func TestKubernetesIndexedJob(t *testing.T) {
	var shards, merge k8sJob
	readYAML(t, "deploy/kubernetes/shards-job.yaml", &shards)
	readYAML(t, "deploy/kubernetes/merge-job.yaml", &merge)
	var pvc struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec struct {
			AccessModes []string `yaml:"accessModes"`
		} `yaml:"spec"`
	}
	readYAML(t, "deploy/kubernetes/results-pvc.yaml", &pvc)
	if pvc.Kind != "PersistentVolumeClaim" || !slices.Contains(pvc.Spec.AccessModes, "ReadWriteMany") {
		t.Errorf("results-pvc.yaml: kind %q, access modes %v: want a claim every pod can mount at once (ReadWriteMany)", pvc.Kind, pvc.Spec.AccessModes)
	}

	s := shards.Spec
	if shards.APIVersion != "batch/v1" || shards.Kind != "Job" || s.CompletionMode != "Indexed" {
		t.Fatalf("shards-job.yaml: %s %s, completion mode %q: want a batch/v1 Job with completionMode Indexed", shards.APIVersion, shards.Kind, s.CompletionMode)
	}
	n := s.Completions
	if n < 1 || s.Parallelism < 1 || s.Parallelism > n {
		t.Errorf("shards-job.yaml: completions %d, parallelism %d", n, s.Parallelism)
	}
	if s.BackoffLimitPerIndex == nil {
		t.Errorf("shards-job.yaml: no backoffLimitPerIndex: a shard's pod that fails is not retried on its own")
	}
	for _, job := range []k8sJob{shards, merge} {
		ps := job.Spec.Template.Spec
		if ps.RestartPolicy != "Never" || len(ps.Containers) != 1 {
			t.Fatalf("%s: restart policy %q, %d containers: want Never and one", job.Metadata.Name, ps.RestartPolicy, len(ps.Containers))
		}
		c := ps.Containers[0]
		if !slices.Equal(c.Command, []string{"/bin/sh", "-c"}) || len(c.Args) != 1 {
			t.Fatalf("%s: command %v args %d: want a shell script", job.Metadata.Name, c.Command, len(c.Args))
		}
		if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/results" || len(ps.Volumes) != 1 ||
			ps.Volumes[0].Name != c.VolumeMounts[0].Name || ps.Volumes[0].PersistentVolumeClaim.ClaimName != pvc.Metadata.Name {
			t.Errorf("%s: the results volume is not the claim %s mounted at /results", job.Metadata.Name, pvc.Metadata.Name)
		}
		if !strings.Contains(c.Args[0], "\nN="+strconv.Itoa(n)+"\n") {
			t.Errorf("%s: the script does not set N=%d (the shards Job's completions):\n%s", job.Metadata.Name, n, c.Args[0])
		}
	}

	script := s.Template.Spec.Containers[0].Args[0]
	if !strings.Contains(script, "K=$((JOB_COMPLETION_INDEX + 1))") {
		t.Errorf("shards-job.yaml: K is not the completion index + 1:\n%s", script)
	}
	args, stdout := commandLine(t, script, "mtabletest")
	if !slices.Contains(args, "-json") || !slices.Contains(args, "$K/$N") || stdout != "/results/shard-$K.json" {
		t.Errorf("shards-job.yaml: mtabletest %v > %s: want -shard $K/$N and -json into /results/shard-$K.json", args, stdout)
	}
	for k := 1; k <= n; k++ {
		vars := map[string]string{"K": strconv.Itoa(k), "N": strconv.Itoa(n)}
		var a []string
		for _, x := range args {
			a = append(a, expand(x, vars))
		}
		a = append(a, "-out", t.TempDir()) // the run's own -out is under /results
		c, err := parseArgs(a, nil)
		if err != nil {
			t.Fatalf("shard %d: mtabletest %v: %v", k, a, err)
		}
		if c.shard != k || c.shards != n {
			t.Errorf("shard %d: mtabletest %v: shard %d/%d, want %d/%d", k, a, c.shard, c.shards, k, n)
		}
	}
	if i := slices.Index(args, "-out"); i < 0 || !strings.HasPrefix(args[i+1], "/results/") {
		t.Errorf("shards-job.yaml: -out is not under /results: %v", args)
	}

	// The merge reads the N files the shards write.
	mscript := merge.Spec.Template.Spec.Containers[0].Args[0]
	margs, _ := commandLine(t, mscript, "mtabletest")
	if len(margs) == 0 || margs[0] != "merge" || !strings.Contains(mscript, `for K in $(seq 1 "$N"); do files="$files /results/shard-$K.json"; done`) {
		t.Errorf("merge-job.yaml: want mtabletest merge of /results/shard-$K.json for K = 1..N:\n%s", mscript)
	}
}

func TestGitHubActionsMatrix(t *testing.T) {
	var wf struct {
		Jobs map[string]struct {
			Needs    any `yaml:"needs"`
			Strategy struct {
				FailFast *bool `yaml:"fail-fast"`
				Matrix   struct {
					Shard []int `yaml:"shard"`
				} `yaml:"matrix"`
			} `yaml:"strategy"`
			Steps []struct {
				Run  string `yaml:"run"`
				Uses string `yaml:"uses"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	readYAML(t, "deploy/github-actions/mtabletest-shards.yml", &wf)
	shard, merge := wf.Jobs["shard"], wf.Jobs["merge"]
	n := len(shard.Strategy.Matrix.Shard)
	for i, k := range shard.Strategy.Matrix.Shard {
		if k != i+1 {
			t.Fatalf("matrix shard %v: want 1..N", shard.Strategy.Matrix.Shard)
		}
	}
	if n == 0 || shard.Strategy.FailFast == nil || *shard.Strategy.FailFast {
		t.Errorf("matrix of %d shards, fail-fast %v: want shards that all run (fail-fast false)", n, shard.Strategy.FailFast)
	}
	if merge.Needs != "shard" {
		t.Errorf("the merge job needs %v, want the shard job", merge.Needs)
	}
	var run, mrun string
	for _, st := range shard.Steps {
		run += st.Run
	}
	for _, st := range merge.Steps {
		mrun += st.Run
	}
	// (The expression ${{ matrix.shard }} holds spaces: it is named $SHARD
	// before the line is split.)
	run = strings.ReplaceAll(run, "${{ matrix.shard }}", "$SHARD")
	args, stdout := commandLine(t, run, "./mtabletest")
	for k := 1; k <= n; k++ {
		var a []string
		for _, x := range args {
			a = append(a, expand(x, map[string]string{"SHARD": strconv.Itoa(k)}))
		}
		a = append(a, "-out", t.TempDir())
		c, err := parseArgs(a, nil)
		if err != nil {
			t.Fatalf("shard %d: mtabletest %v: %v", k, a, err)
		}
		if c.shard != k || c.shards != n || !c.json {
			t.Errorf("shard %d: mtabletest %v: shard %d/%d, -json %v; want %d/%d with -json", k, a, c.shard, c.shards, c.json, k, n)
		}
	}
	if want := "out-shard-$SHARD.json"; stdout != want {
		t.Errorf("the shard's summary goes to %q, want %q", stdout, want)
	}
	margs, _ := commandLine(t, mrun, "./mtabletest")
	if len(margs) == 0 || margs[0] != "merge" || !slices.Contains(margs, "shards/out-shard-*.json") {
		t.Errorf("merge step: ./mtabletest %v: want merge of every shard's summary", margs)
	}
	if ok, _ := regexp.MatchString(`(?s)if \[ "\$code" -gt 1 \]; then exit "\$code"; fi`, run); !ok {
		t.Errorf("a shard that found a failure (exit 1) fails its job before the merge:\n%s", run)
	}
}
