using KdGat.Core.IO;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Auditing;

/// <summary>
/// Which paths an audit judges and who owns them. Owned: every stage instance's run dir and
/// declared outputs, for every configured dataset (the preprocess output is the graph cache dir).
/// In scope: the repository root, the runs root and the raw/cache roots (the part of paths.raw and
/// paths.cache before the first placeholder). Ignored outside that scope: system directories
/// (/usr /lib* /bin /sbin /etc /proc /sys /dev /run /tmp /var/tmp), the .NET install, ~/.nuget,
/// ~/.dotnet and ~/.cache (disposable by definition). Ignored everywhere: KdGat's own state
/// (.kdgat/, the tools dir, run-state dirs) and Python's environment (__pycache__, written by the
/// interpreter from code files; .venv, venv, site-packages, dist-packages: installed packages).
/// </summary>
internal sealed partial class AuditScope
{
    // Python's bytecode caches and installed packages: the interpreter's environment, not pipeline data.
    private static readonly HashSet<string> EnvironmentDirs = new(StringComparer.Ordinal) { "__pycache__", "site-packages", "dist-packages", ".venv", "venv" };
    private static readonly string[] SystemRoots = ["/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc", "/proc", "/sys", "/dev", "/run", "/tmp", "/var/tmp"];

    private readonly Dictionary<string, (StageInstance Owner, bool Output)> _owned = new(StringComparer.Ordinal);
    private readonly string[] _projectRoots;
    private readonly string[] _ignoredOutside;
    private readonly string[] _ignoredEverywhere;

    /// <param name="all">Every stage instance of the full graph, for every configured dataset.</param>
    public AuditScope(PipelineLayout layout, IEnumerable<StageInstance> all, IEnumerable<string>? extraIgnored = null)
    {
        Layout = layout;
        foreach (var s in all)
        {
            _owned.TryAdd(Norm(s.RunDir), (s, false));
            foreach (var o in s.Outputs) _owned[Norm(o)] = (s, true);
        }
        DataRoots = new[] { TemplateRoot(layout.Config.RawDir), TemplateRoot(layout.Config.CacheDir) }.Distinct().ToArray();
        _projectRoots = new[] { layout.Root, layout.RunsRoot }.Concat(DataRoots).Distinct().ToArray();
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var dotnetRoot = Path.GetFullPath(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        _ignoredOutside = SystemRoots.Append(dotnetRoot).Append(Environment.GetEnvironmentVariable("DOTNET_ROOT") ?? "")
            .Concat(home.Length > 0 ? [Path.Combine(home, ".nuget"), Path.Combine(home, ".dotnet"), Path.Combine(home, ".cache")] : [])
            .Concat(extraIgnored ?? []).Where(p => p.Length > 0).Select(Norm).Distinct().ToArray();
        _ignoredEverywhere = [Norm(layout.StateDir), Norm(layout.ToolsDir)];
        // strace -y prints directories as the kernel sees them, with symbolic links resolved
        // (/home -> /gpfs/home on many clusters); the pipeline's paths are as the user wrote them.
        _physicalToLogical = _projectRoots.Select(r => (Physical: PathText.RealPath(r), Logical: Norm(r)))
            .Where(p => p.Physical is not null && p.Physical != p.Logical).Select(p => (p.Physical!, p.Logical))
            .OrderByDescending(p => p.Item1.Length).ToArray();
    }

    private readonly (string Physical, string Logical)[] _physicalToLogical;

    /// <summary>The path as the pipeline names it: a traced path under the resolved form of a project root is moved back under the root.</summary>
    public string Logical(string path) => PathText.Respelled(path, _physicalToLogical);

    public PipelineLayout Layout { get; }
    /// <summary>The directories raw data and graph caches live under (paths.raw / paths.cache up to the first placeholder).</summary>
    public IReadOnlyList<string> DataRoots { get; }

    /// <summary>
    /// A read of a bytecode cache in the project (D/__pycache__/N.TAG.pyc) stands for its source D/N.py:
    /// while the .pyc is valid Python only stats the source (not traced) and opens the .pyc, which
    /// <see cref="Ignored"/> drops, so a module a stage imports and no code pattern covers went unsaid,
    /// and an edit of it rebuilt nothing (a first-week review). Not in an environment's folders.
    /// </summary>
    public static string SourceOfBytecode(string path)
    {
        if (!path.EndsWith(".pyc", StringComparison.Ordinal) || PythonBytecode().Match(path) is not { Success: true } m) return path;
        var dir = m.Groups["dir"].Value;
        if (dir.Split('/').Any(EnvironmentDirs.Contains)) return path;
        var source = dir + "/" + m.Groups["name"].Value + ".py";
        return File.Exists(source) ? source : path;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?<dir>.*)/__pycache__/(?<name>[^/.]+)\.[^/.]+(\.opt-[0-9]+)?\.pyc$")]
    private static partial System.Text.RegularExpressions.Regex PythonBytecode();

    /// <summary>True for paths the audit never judges (system files, KdGat's state, interpreter caches).</summary>
    public bool Ignored(string path)
    {
        if (_ignoredEverywhere.Any(r => PathText.IsUnder(path, r))) return true;
        if (path.Split('/').Any(EnvironmentDirs.Contains)) return true;
        // run-state dirs: {runs}/{dataset}/.kdgat/ (journals, locks, aside copies)
        if (PathText.IsUnder(path, Layout.RunsRoot) && Path.GetRelativePath(Layout.RunsRoot, path).Split('/') is [_, PipelineLayout.StateDirName, ..]) return true;
        return !InProject(path) && _ignoredOutside.Any(r => PathText.IsUnder(path, r));
    }

    /// <summary>Under the repository root, the runs root or a raw/cache root.</summary>
    public bool InProject(string path) => _projectRoots.Any(r => PathText.IsUnder(path, r)) || Owner(path) is not null;

    /// <summary>The stage instance whose run dir or declared output holds <paramref name="path"/> (the deepest match), or null.</summary>
    public (StageInstance Owner, bool Output)? Owner(string path)
    {
        for (var a = Norm(path); !string.IsNullOrEmpty(a); a = Path.GetDirectoryName(a))
            if (_owned.TryGetValue(a, out var hit)) return hit;
        return null;
    }

    private string TemplateRoot(string template)
    {
        template = template.Replace("{root}", Layout.Root, StringComparison.Ordinal);
        var cut = template.IndexOf('{');
        var prefix = cut < 0 ? template : template[..cut];
        if (cut >= 0) prefix = prefix.Contains('/') ? prefix[..prefix.LastIndexOf('/')] : "";
        return Path.GetFullPath(Path.Combine(Layout.Root, prefix));
    }

    private static string Norm(string p) => p == "/" ? p : Path.GetFullPath(p).TrimEnd('/');
}
