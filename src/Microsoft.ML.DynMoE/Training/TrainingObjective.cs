namespace Microsoft.ML.DynMoE.Training;

/// <summary>The task loss the network is trained with.</summary>
internal enum TrainingObjective
{
    /// <summary>Softmax cross-entropy; labels are class indices.</summary>
    CrossEntropy,

    /// <summary>Sigmoid cross-entropy on one logit; labels are 0 or 1.</summary>
    BinaryCrossEntropy,

    /// <summary>Squared error on one output; labels are standardised targets.</summary>
    SquaredError,
}
