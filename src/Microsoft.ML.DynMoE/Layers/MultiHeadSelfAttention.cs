using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// Multi-head self-attention with a key-padding mask: <c>softmax(Q Kᵀ / √d_h + mask) V</c> per head, heads
/// concatenated and projected. Padded keys get a large negative logit rather than −∞, so a row whose keys are all
/// padding stays finite (it is discarded by the pooling anyway) and real rows are exactly as with −∞.
/// </summary>
internal sealed class MultiHeadSelfAttention : nn.Module<Tensor, Tensor?, Tensor>
{
    /// <summary>Logit given to padded keys.</summary>
    public const double MaskedLogit = -1e9;

    /// <summary>Creates the projections (torch's Linear init).</summary>
    /// <param name="name">Module name.</param>
    /// <param name="modelDimension">Token width d; divisible by <paramref name="heads"/>.</param>
    /// <param name="heads">Number of heads.</param>
    /// <param name="generator">Random generator; null draws from the global torch generator.</param>
    /// <param name="attentionDropout">Dropout on the attention probabilities in training (pretrained BERT uses 0.1); 0 by default.
    /// Above 0, training runs the explicit attention (<see cref="ExplicitForward"/>) with a seeded mask.</param>
    public MultiHeadSelfAttention(string name, int modelDimension, int heads, Generator? generator = null, double attentionDropout = 0)
        : base(name)
    {
        if (heads < 1 || modelDimension % heads != 0)
            throw new ArgumentOutOfRangeException(nameof(heads), heads, $"The number of heads must divide ModelDimension ({modelDimension}).");
        if (!(attentionDropout >= 0 && attentionDropout < 1))
            throw new ArgumentOutOfRangeException(nameof(attentionDropout), attentionDropout, "attentionDropout must be in [0, 1).");
        ModelDimension = modelDimension;
        Heads = heads;
        AttentionDropout = attentionDropout;
        QueryKeyValue = Initialization.Linear(modelDimension, 3 * modelDimension, generator);
        Output = Initialization.Linear(modelDimension, modelDimension, generator);
        ProbabilityDropout = new SeededDropout("probability_dropout", attentionDropout);
        register_module("qkv", QueryKeyValue);
        register_module("output", Output);
        register_module("probability_dropout", ProbabilityDropout);
    }

    /// <summary>Token width d.</summary>
    public int ModelDimension { get; }

    /// <summary>Number of heads.</summary>
    public int Heads { get; }

    /// <summary>Dropout probability on the attention probabilities, applied in training only.</summary>
    public double AttentionDropout { get; }

    /// <summary>Dropout on the attention probabilities (its generator is set by the network, <see cref="SeededDropout.SeedAll"/>).</summary>
    public SeededDropout ProbabilityDropout { get; }

    /// <summary>Joint projection to queries, keys and values (<c>[3d, d]</c> weight: rows 0..d-1 queries, then keys, then values).</summary>
    public Linear QueryKeyValue { get; }

    /// <summary>Output projection.</summary>
    public Linear Output { get; }

    /// <summary>Attends over <paramref name="input"/> <c>[N, S, d]</c>; <paramref name="keyMask"/> <c>[N, S]</c> is true for real tokens (null: all real).</summary>
    public override Tensor forward(Tensor input, Tensor? keyMask)
    {
        // The fused kernel's dropout draws from libtorch's global generator, so seeded dropout takes the explicit path.
        if (ProbabilityDropout.IsActive)
            return ExplicitForward(input, keyMask);
        using var scope = NewDisposeScope();
        long n = input.shape[0], s = input.shape[1];
        int headDimension = ModelDimension / Heads;
        var qkv = QueryKeyValue.forward(input).view(n, s, 3, Heads, headDimension).permute(2, 0, 3, 1, 4);
        // libtorch's fused kernel never materialises the [N, H, S, S] scores (nor keeps them for backward); its default
        // scale is 1/√d_h. The mask is additive, MaskedLogit on padded keys, so the logits are those of the explicit form.
        var attended = nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], keyMask is null ? null : AdditiveMask(keyMask, input.dtype));
        return Output.forward(attended.transpose(1, 2).reshape(n, s, ModelDimension)).MoveToOuterDisposeScope();
    }

    /// <summary><c>[N, 1, 1, S]</c>: 0 for real keys, <see cref="MaskedLogit"/> for padded ones.</summary>
    internal static Tensor AdditiveMask(Tensor keyMask, ScalarType dtype)
    {
        long n = keyMask.shape[0], s = keyMask.shape[1];
        return TensorNumberOps.MaskedFill(torch.zeros(n, 1, 1, s, dtype: dtype, device: keyMask.device), keyMask.logical_not().view(n, 1, 1, s), MaskedLogit);
    }

    /// <summary>
    /// The explicit form: score matrices, masked fill, softmax, seeded dropout on the probabilities (training only),
    /// weighted sum. The reference the fused path is tested against, and the training path when dropout is on.
    /// </summary>
    internal Tensor ExplicitForward(Tensor input, Tensor? keyMask)
    {
        using var scope = NewDisposeScope();
        long n = input.shape[0], s = input.shape[1];
        int headDimension = ModelDimension / Heads;
        var qkv = QueryKeyValue.forward(input).view(n, s, 3, Heads, headDimension).permute(2, 0, 3, 1, 4);
        var logits = TensorNumberOps.Multiply(qkv[0].matmul(qkv[1].transpose(-2, -1)), 1.0 / Math.Sqrt(headDimension));
        if (keyMask is not null)
            logits = TensorNumberOps.MaskedFill(logits, keyMask.logical_not().view(n, 1, 1, s), MaskedLogit);
        var attended = ProbabilityDropout.forward(torch.softmax(logits, -1)).matmul(qkv[2]).transpose(1, 2).reshape(n, s, ModelDimension);
        return Output.forward(attended).MoveToOuterDisposeScope();
    }
}
