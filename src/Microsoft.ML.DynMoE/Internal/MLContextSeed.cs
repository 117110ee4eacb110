using Microsoft.ML.Runtime;

namespace Microsoft.ML.DynMoE.Internal;

/// <summary>The seed an <see cref="MLContext"/> was created with; ML.NET keeps it internal, and its components default to it.</summary>
internal static class MLContextSeed
{
    /// <summary>The seed passed to <c>new MLContext(seed)</c>, or null when none was given.</summary>
    public static int? Of(MLContext mlContext) => ((IHostEnvironmentInternal)mlContext).Seed;
}
