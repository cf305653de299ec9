namespace KdGat.Core.Diagnostics;

/// <summary>
/// Every code a user can see. The README's error table lists the same codes; a unit test keeps
/// the two in step.
/// </summary>
internal static partial class ErrorCodes
{
    // 1xxx: configuration, datasets and the pipeline's shape (nothing ran).
    /// <summary>Error: the configuration file (kdgat.yaml or -p:KdGatConfig) does not exist.</summary>
    public const string ConfigNotFound = "KDG1001";
    /// <summary>Error: YAML syntax error, or a YAML limit (size, depth, aliases) exceeded; the message gives file, line and column.</summary>
    public const string YamlSyntax = "KDG1002";
    /// <summary>Error: a configuration key KdGat does not know (the message suggests the nearest known one).</summary>
    public const string ConfigUnknownKey = "KDG1003";
    /// <summary>Error: a configuration value of the wrong type (the message names the expected type).</summary>
    public const string ConfigWrongType = "KDG1004";
    /// <summary>Error: a required configuration key is missing.</summary>
    public const string ConfigMissingKey = "KDG1005";
    /// <summary>Error: a stage target in the pipeline project has no entry under <c>stages:</c>.</summary>
    public const string StageNotConfigured = "KDG1006";
    /// <summary>Error: a command uses an unknown placeholder or has an unbalanced brace.</summary>
    public const string UnknownPlaceholder = "KDG1007";
    /// <summary>Error: a resource value (<c>mem</c>, <c>time</c>, <c>cpus</c>, names) KdGat cannot parse.</summary>
    public const string BadResource = "KDG1008";
    /// <summary>Error: a params file is missing or malformed.</summary>
    public const string ParamsFile = "KDG1009";
    /// <summary>A parameter or sweep value written as a plain yes/no/on/off: a boolean to YAML 1.1 (PyYAML), text to KdGat's YAML 1.2.</summary>
    public const string AmbiguousBoolean = "KDG1043";
    /// <summary>Error: two or more outputs of one stage instance are named metrics.json: a run records one as the stage's metrics.</summary>
    public const string MetricsFileDeclaredTwice = "KDG1044";
    /// <summary>Error: a stage's <c>teacher</c> is not one of its upstreams.</summary>
    public const string TeacherNotUpstream = "KDG1010";
    /// <summary>Warning: a <c>code</c> pattern (defaults.code or a stage's) matches no file, so the stages using it are fingerprinted without the code it meant (a misspelt folder: no edit would rerun them).</summary>
    public const string CodePatternMatchesNothing = "KDG1013";
    /// <summary>An input, output or code path is a FIFO, device or socket: only regular files and directories are hashed.</summary>
    public const string NotRegularFile = "KDG1015";
    /// <summary>A symlink inside an input, output or code directory leads back to a directory above it (a cycle).</summary>
    public const string SymlinkCycle = "KDG1016";
    /// <summary>An input, output or code path cannot be looked up by its name: a name inside a directory that is not valid UTF-8, or a path longer than the system allows.</summary>
    public const string UnusablePathName = "KDG1017";
    /// <summary>An input, output, <c>paths.raw</c> or <c>paths.cache</c> goes up ('..') out of a symbolic link: the system reads the parent of the link's target, not what the text names.</summary>
    public const string PathUpThroughSymlink = "KDG1018";
    /// <summary>Warning: no statx here, so no file has an identity that vouches for an earlier hash: everything is hashed in every build.</summary>
    public const string NoFileIdentity = "KDG1019";
    /// <summary>Error: an invalid dataset name (letters, digits, <c>_ . -</c> only).</summary>
    public const string InvalidDatasetName = "KDG1101";
    /// <summary>Error: a dataset that is not under <c>datasets:</c> in the configuration.</summary>
    public const string UnknownDataset = "KDG1102";
    /// <summary>Error: a dataset's raw data is missing and no generator is configured.</summary>
    public const string RawDataMissing = "KDG1103";
    /// <summary>Error: the sample-data generator failed (its log is named).</summary>
    public const string GeneratorFailed = "KDG1104";
    /// <summary>Error: a dataset's raw data is what a generator run that did not finish left (its journal is beside it): not used until the folder is emptied or the journal deleted.</summary>
    public const string GeneratorUnfinished = "KDG1106";
    /// <summary>Error: an invalid stage name (letters, digits, <c>_ . -</c>, starting with a letter or digit, as a dataset name).</summary>
    public const string InvalidStageName = "KDG1105";
    /// <summary>Error: <c>Needs</c> names a stage that is not in the pipeline.</summary>
    public const string UnknownUpstream = "KDG1201";
    /// <summary>Error: a stage is declared twice.</summary>
    public const string DuplicateStage = "KDG1202";
    /// <summary>Error: -p:Stage names an unknown stage.</summary>
    public const string UnknownStage = "KDG1203";
    /// <summary>Error: an output lies outside its run dir and its dataset's cache dir, touches something protected, or overlaps another stage's.</summary>
    public const string UnsafeOutputPath = "KDG1204";
    /// <summary>Error: a -p: property has a value KdGat cannot use.</summary>
    public const string BadProperty = "KDG1205";
    /// <summary>Raised by targets/KdGat.Tasks.targets, not C#: no tool sources and no built tools.</summary>
    public const string ToolsMissing = "KDG1206";
    /// <summary>A file or directory a target needs cannot be read or written (bad path, permissions, full disk).</summary>
    public const string FileAccess = "KDG1207";
    /// <summary>Error: CacheGc with the output cache turned off (cache_store or KDGAT_CACHE is 'off').</summary>
    public const string CacheOff = "KDG1208";
    /// <summary>Error: this MSBuild process (the MSBuild server, a reused node, an IDE) still runs KdGat tasks whose files were rebuilt since it loaded them.</summary>
    public const string ToolsReloadNeeded = "KDG1209";

    // 2xxx: state on disk that is damaged (warnings: the stage is treated as stale, never up to date).
    /// <summary>Warning: a manifest is damaged (unreadable, or its outputs_digest disagrees with its output hashes); the stage runs again or is restored.</summary>
    public const string CorruptManifest = "KDG2001";
    /// <summary>Warning: waiting for another build's lock on a stage or dataset.</summary>
    public const string LockWait = "KDG2002";
    /// <summary>Warning: an interrupted attempt was recovered from its journal (previous result put back, or a committed result kept).</summary>
    public const string RecoveredAttempt = "KDG2003";
    /// <summary>Warning: an output-cache entry failed hash verification; it was evicted (unless the store is read-only) and the stage runs.</summary>
    public const string CacheEntryDamaged = "KDG2004";
    /// <summary>Warning: a stage's outputs could not be added to the output cache; the build goes on without caching them.</summary>
    public const string CacheWriteFailed = "KDG2005";
    /// <summary>Clean refused as a whole, deleting nothing: a build is running on a stage or dataset it would delete.</summary>
    public const string CleanRefused = "KDG2006";
    /// <summary>Clean found a run dir (or an output's directory) that is a symbolic link: it removed the link only, never what it points to.</summary>
    public const string CleanSymlink = "KDG2007";
    /// <summary>The hash cache or the build report could not be written; no stage result is affected.</summary>
    public const string StateWriteFailed = "KDG2008";
    /// <summary>Warning: a cache entry could not be placed in the run dir (a full disk, permissions); the entry is kept and the stage runs.</summary>
    public const string CacheRestoreFailed = "KDG2009";
    /// <summary>Warning: CacheGc could not remove cache entries this user may not write (another member's under umask 022); they stay.</summary>
    public const string CacheEntriesKept = "KDG2010";
    /// <summary>Warning: a swept stage's result from before the sweep could not be archived or removed after a point's result was committed (permissions, a full disk); it stays beside the points.</summary>
    public const string UnsweptResultNotRemoved = "KDG2018";
    /// <summary>Warning: Clean could not archive a stage's manifest (a full disk, permissions) and kept it; the stage runs again all the same (its outputs are gone).</summary>
    public const string CleanManifestKept = "KDG2022";

    // 3xxx: stage execution.
    /// <summary>Error: a stage's last attempt failed (its stderr tail is in the message).</summary>
    public const string StageFailed = "KDG3001";
    /// <summary>Error: a command exited 0 but a declared output is missing.</summary>
    public const string OutputMissing = "KDG3002";
    /// <summary>Warning: a stage was skipped because an upstream failed (the upstream's error says why).</summary>
    public const string StageSkipped = "KDG3003";
    /// <summary>Error: the build was cancelled (Ctrl+C); the stages it stopped stay stale (SLURM jobs: KDG4007/KDG4008 say what happened to them).</summary>
    public const string StageCancelled = "KDG3004";
    /// <summary>Error: a stage's command could not be started.</summary>
    public const string CommandNotStarted = "KDG3005";
    /// <summary>Error: a declared input of a stage is missing.</summary>
    public const string InputMissing = "KDG3006";
    /// <summary>A file operation of one stage failed (disk full, permissions, NFS error); that stage fails, the build goes on.</summary>
    public const string StageIoError = "KDG3007";
    /// <summary>The run record of a finished attempt could not be written: the attempt was undone, the stage failed.</summary>
    public const string RecordWriteFailed = "KDG3008";
    /// <summary>Warning: an attempt failed and the retry policy runs another (more memory or time).</summary>
    public const string AttemptRetried = "KDG3009";
    /// <summary>Error: the build failed (the summary of failed and skipped stages).</summary>
    public const string BuildFailed = "KDG3010";
    /// <summary>Error: -question or Explain with -p:FailIfStale=true found a stage instance that is not up to date (nothing was run).</summary>
    public const string StaleUnderGate = "KDG3011";
    /// <summary>Warning: the on_success / on_failure hook failed, timed out or could not start; the build result is unchanged.</summary>
    public const string HookFailed = "KDG3015";
    /// <summary>Warning: a stage command (or the generator) exited but left processes running in its process group; they were killed.</summary>
    public const string LeftoversKilled = "KDG3016";
    /// <summary>Error: an upstream's outputs changed while the stage ran (another build restored or reran it); the attempt was discarded.</summary>
    public const string UpstreamChangedDuringRun = "KDG3017";
    /// <summary>Error: a batch job's output changed after its done-marker was written, before a build collected it; the attempt is discarded.</summary>
    public const string OutputChangedAfterJob = "KDG3018";
    /// <summary>Error: a stage's command changed or removed the params.json KdGat wrote into its run dir: the attempt is discarded.</summary>
    public const string ParamsFileChangedByStage = "KDG3019";
    /// <summary>Warning: a declared input, code file or the tools a stage runs changed after its fingerprint was taken (while it ran); its outputs are kept, recorded as stale, not cached.</summary>
    public const string InputChangedDuringRun = "KDG3020";
    /// <summary>Error: a stage's process (or the thread that waits for it) was refused for the user's process limit (ulimit -u, EAGAIN), after retries.</summary>
    public const string ProcessLimit = "KDG3021";
    /// <summary>Error: a stage's process was refused for the open-file limit (ulimit -n, EMFILE/ENFILE), after retries.</summary>
    public const string OpenFileLimit = "KDG3022";
    /// <summary>Error: a stage's process was refused for a memory limit (ulimit -v, a cgroup; ENOMEM), after retries.</summary>
    public const string MemoryLimit = "KDG3023";
    /// <summary>Warning: kdgat.yaml or a params file changed while the build ran; its stages ran with the configuration it had read, the change is the next build's.</summary>
    public const string ConfigChangedDuringBuild = "KDG3024";
}
