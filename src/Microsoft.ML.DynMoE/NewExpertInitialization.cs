namespace Microsoft.ML.DynMoE;

/// <summary>What feed-forward weights a top-any expert slot starts from when adaptation activates it.</summary>
public enum NewExpertInitialization
{
    /// <summary>The slot keeps its own weights: random from construction, or the weights it had when it was last removed.</summary>
    Random,

    /// <summary>A copy of the active expert that received the most tokens in the recording window (the authors' setups start experts as copies).</summary>
    CopyMostLoaded,

    /// <summary>The element-wise mean of the active experts' weights.</summary>
    MeanOfActive,
}
