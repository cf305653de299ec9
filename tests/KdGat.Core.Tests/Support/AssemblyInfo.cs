// The core's executors, locks and file identities are Linux-specific (posix_spawn, flock, statx);
// so are these tests.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
