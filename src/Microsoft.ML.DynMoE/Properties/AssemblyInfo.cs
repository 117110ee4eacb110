using System.Runtime.CompilerServices;

// Compile against publicized ML.NET, run against the real one (docs/architecture.md, "Building against ML.NET").
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Data")]
