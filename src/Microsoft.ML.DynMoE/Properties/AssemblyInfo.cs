using System.Runtime.CompilerServices;

// Approach A (docs/architecture.md): compile against publicized ML.NET, run against the real one.
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Data")]
