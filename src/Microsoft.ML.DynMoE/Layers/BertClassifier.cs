using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// A pretrained <see cref="BertEncoder"/> (FFNs of chosen blocks upcycled into DynMoE layers) with a classification
/// head on the mean of the real tokens' last hidden states, trained by the shared loop. Its float input <c>[N, S]</c>
/// holds one value per token, <c>1 + id + type · V</c>, and 0 for padding; the parameters that came from the checkpoint
/// are reported apart (<see cref="MoENetwork.PretrainedParameters"/>) so the optimizer can give them a lower rate.
/// </summary>
internal sealed class BertClassifier : MoENetwork
{
    private readonly MoELayer[] _moeLayers;
    private readonly int _vocabularySize;
    private readonly float _auxiliaryLossWeight;

    /// <summary>Creates the classifier around <paramref name="encoder"/> (owned by it).</summary>
    /// <param name="encoder">The pretrained encoder.</param>
    /// <param name="outputs">Logits: classes, or 1 for a binary label.</param>
    /// <param name="auxiliaryLossWeight">Coefficient of the MoE layers' auxiliary loss.</param>
    /// <param name="generator">Generator of the head's initial weights.</param>
    public BertClassifier(BertEncoder encoder, int outputs, float auxiliaryLossWeight, Generator? generator)
        : base(nameof(BertClassifier))
    {
        ArgumentNullException.ThrowIfNull(encoder);
        Encoder = encoder;
        _vocabularySize = encoder.Options.VocabularySize;
        _auxiliaryLossWeight = auxiliaryLossWeight;
        Dropout = new SeededDropout("dropout", encoder.Options.HiddenDropout);
        Head = Initialization.Linear(encoder.Options.ModelDimension, outputs, generator);
        register_module("encoder", Encoder);
        register_module("dropout", Dropout);
        register_module("head", Head);
        _moeLayers = encoder.MoELayers.ToArray();
        SeedDropout(generator);
    }

    /// <summary>The pretrained encoder.</summary>
    public BertEncoder Encoder { get; }

    /// <summary>Dropout on the pooled embedding (the checkpoint's hidden dropout), as BERT's classifiers have.</summary>
    public SeededDropout Dropout { get; }

    /// <summary>Classification head.</summary>
    public Linear Head { get; }

    /// <inheritdoc />
    public override IReadOnlyList<MoELayer> MoELayers => _moeLayers;

    /// <summary>The encoder's parameters except the MoE layers' gates, which are new (the upcycled experts are pretrained).</summary>
    public override IEnumerable<Parameter> PretrainedParameters
    {
        get
        {
            var fresh = new HashSet<IntPtr>(_moeLayers.SelectMany(l => l.parameters()).Select(p => p.Handle));
            fresh.ExceptWith(_moeLayers.SelectMany(l => l.Experts.parameters()).Select(p => p.Handle));
            return Encoder.parameters().Where(p => !fresh.Contains(p.Handle)).ToArray();
        }
    }

    /// <summary>Logits <c>[N, outputs]</c> of encoded token rows <c>[N, S]</c>.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var (ids, types, mask) = Decode(input, _vocabularySize);
        var hidden = Encoder.forward(ids, types, mask);
        var pooled = BertEncoder.MeanPool(hidden, mask);
        var output = Head.forward(Dropout.forward(pooled));
        CollectAuxiliaryLoss(_auxiliaryLossWeight, output.device);
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>Token ids, token types and the attention mask (int64 <c>[N, S]</c> each) of encoded rows.</summary>
    public static (Tensor Ids, Tensor Types, Tensor Mask) Decode(Tensor input, int vocabularySize)
    {
        using var scope = NewDisposeScope();
        var code = TensorNumberOps.ClampMin(TensorNumberOps.Add(input, -1), 0).to(ScalarType.Int64);
        var stride = torch.tensor((long)vocabularySize, dtype: ScalarType.Int64, device: input.device);
        var types = code.floor_divide(stride);
        var ids = code.sub(types.mul(stride));
        var mask = TensorNumberOps.GreaterThan(input, 0).to(ScalarType.Int64);
        return (ids.MoveToOuterDisposeScope(), types.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }
}
