namespace Microsoft.ML.DynMoE.Experiments
{
    /// <summary>The machine learning task an experiment solves.</summary>
    public enum ExperimentTask
    {
        /// <summary>Multiclass classification (key label).</summary>
        MulticlassClassification,
        /// <summary>Binary classification (Boolean label).</summary>
        BinaryClassification,
        /// <summary>Regression (Single label).</summary>
        Regression,
    }
}
