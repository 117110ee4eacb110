namespace Microsoft.ML.DynMoE.Experiments
{
    /// <summary>The family a candidate belongs to; the lower-case name is used in reports.</summary>
    public enum CandidateFamily
    {
        /// <summary>DynMoE with top-any gating and adaptive expert count.</summary>
        DynMoE,
        /// <summary>The same network with fixed top-k gating and a fixed expert count.</summary>
        TopK,
        /// <summary>The same network with one dense feed-forward block per layer.</summary>
        Dense,
        /// <summary>ML.NET LightGBM.</summary>
        LightGbm,
        /// <summary>ML.NET FastTree (one-versus-all for multiclass).</summary>
        FastTree,
        /// <summary>ML.NET SDCA (maximum entropy, logistic regression or regression).</summary>
        Sdca,
        /// <summary>ML.NET L-BFGS (maximum entropy, logistic regression or Poisson regression).</summary>
        Lbfgs,
        /// <summary>A user-defined candidate.</summary>
        Custom,
    }
}
