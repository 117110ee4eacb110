namespace Microsoft.ML.DynMoE.Training;

/// <summary>What training produces: the compiled (managed) network plus what the routing looked like.</summary>
/// <typeparam name="TCompiled">The managed form of the network (the tabular MLP or the Transformer encoder).</typeparam>
internal sealed class TrainedNetwork<TCompiled>
{
    public required TCompiled Network { get; init; }
    public required IReadOnlyList<DynMoELayerRouting> Routing { get; init; }
    public required int EpochsRun { get; init; }
    public required double FinalTrainingLoss { get; init; }
}
