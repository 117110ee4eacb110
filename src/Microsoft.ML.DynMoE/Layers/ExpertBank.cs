using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// All expert feed-forward networks of one layer, stored as batched weights so every slot exists up front:
/// <c>FFN_e(x) = act(x @ Weight1[e] + Bias1[e]) @ Weight2[e] + Bias2[e]</c>.
/// The forward pass is a sparse, dropless dispatch: only routed (token, expert) pairs are computed.
/// </summary>
internal sealed class ExpertBank : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly ExpertActivation _activation;

    /// <summary>Creates <paramref name="expertCount"/> experts initialized like <c>nn.Linear</c> (uniform in ±1/sqrt(fan_in)).</summary>
    /// <param name="name">Module name.</param>
    /// <param name="expertCount">Number of expert slots.</param>
    /// <param name="modelDimension">Token width d.</param>
    /// <param name="hiddenDimension">Hidden width h of each expert.</param>
    /// <param name="activation">Nonlinearity between the two projections.</param>
    /// <param name="generator">Random generator for the initial weights; null draws from the global torch generator.</param>
    public ExpertBank(string name, int expertCount, int modelDimension, int hiddenDimension, ExpertActivation activation, Generator? generator = null)
        : base(name)
    {
        if (expertCount < 1) throw new ArgumentOutOfRangeException(nameof(expertCount), expertCount, "expertCount must be at least 1.");
        if (modelDimension < 1) throw new ArgumentOutOfRangeException(nameof(modelDimension), modelDimension, "modelDimension must be at least 1.");
        if (hiddenDimension < 1) throw new ArgumentOutOfRangeException(nameof(hiddenDimension), hiddenDimension, "hiddenDimension must be at least 1.");

        ExpertCount = expertCount;
        ModelDimension = modelDimension;
        HiddenDimension = hiddenDimension;
        _activation = activation;

        double bound1 = 1.0 / Math.Sqrt(modelDimension);
        double bound2 = 1.0 / Math.Sqrt(hiddenDimension);
        register_parameter("weight1", new Parameter(UniformSymmetric(generator, bound1, expertCount, modelDimension, hiddenDimension), true));
        register_parameter("bias1", new Parameter(UniformSymmetric(generator, bound1, expertCount, hiddenDimension), true));
        register_parameter("weight2", new Parameter(UniformSymmetric(generator, bound2, expertCount, hiddenDimension, modelDimension), true));
        register_parameter("bias2", new Parameter(UniformSymmetric(generator, bound2, expertCount, modelDimension), true));
    }

    /// <summary>Number of expert slots E.</summary>
    public int ExpertCount { get; }

    /// <summary>Token width d.</summary>
    public int ModelDimension { get; }

    /// <summary>Hidden width h of each expert.</summary>
    public int HiddenDimension { get; }

    /// <summary>First projections, <c>[E, d, h]</c>.</summary>
    public Tensor Weight1 => get_parameter("weight1")!;

    /// <summary>First biases, <c>[E, h]</c>.</summary>
    public Tensor Bias1 => get_parameter("bias1")!;

    /// <summary>Second projections, <c>[E, h, d]</c>.</summary>
    public Tensor Weight2 => get_parameter("weight2")!;

    /// <summary>Second biases, <c>[E, d]</c>.</summary>
    public Tensor Bias2 => get_parameter("bias2")!;

    /// <summary>Runs expert <paramref name="expert"/> on every row of <paramref name="rows"/> (<c>[n, d]</c>).</summary>
    public Tensor ExpertForward(int expert, Tensor rows)
    {
        using var scope = NewDisposeScope();
        return Feedforward(rows, Weight1[expert], Bias1[expert], Weight2[expert], Bias2[expert]).MoveToOuterDisposeScope();
    }

    /// <summary>Sets slot <paramref name="slot"/>'s weights and biases to the element-wise mean of <paramref name="sources"/>' (a copy for one source).</summary>
    /// <param name="slot">Slot to overwrite.</param>
    /// <param name="sources">Slots to average; not empty.</param>
    public void InitializeSlot(int slot, IReadOnlyList<int> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        if (sources.Count == 0) throw new ArgumentException("InitializeSlot needs at least one source slot.", nameof(sources));
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        var index = torch.tensor(sources.Select(e => (long)e).ToArray()).to(Weight1.device);
        foreach (var parameter in new[] { Weight1, Bias1, Weight2, Bias2 })
        {
            parameter[slot].copy_(parameter.index_select(0, index).mean(new long[] { 0 }));
        }
    }

    /// <summary>
    /// Sparse dropless dispatch. <paramref name="routed"/> (<c>[S, E]</c> bool) marks the (token, expert) pairs to compute;
    /// <paramref name="combineWeights"/> (<c>[S, E]</c>, same dtype as <paramref name="tokens"/>) holds their weights.
    /// Pairs are grouped by expert, each expert runs once on its gathered rows, and the weighted results are index-added
    /// back per token. Tokens with no routed pair get 0.
    /// </summary>
    /// <param name="tokens">Token matrix <c>[S, d]</c>.</param>
    /// <param name="routed">Routing mask <c>[S, E]</c>.</param>
    /// <param name="combineWeights">Combine weights <c>[S, E]</c>; only routed entries are read.</param>
    /// <returns>The combined expert output <c>[S, d]</c>.</returns>
    public override Tensor forward(Tensor tokens, Tensor routed, Tensor combineWeights)
    {
        using var scope = NewDisposeScope();
        long tokenCount = tokens.shape[0];
        var output = torch.zeros(tokenCount, ModelDimension, dtype: tokens.dtype, device: tokens.device);

        // Transposing first makes nonzero() list the pairs grouped by expert (row-major over [E, S]).
        var pairs = routed.t().nonzero();
        long pairCount = pairs.shape[0];
        if (pairCount == 0)
        {
            // Keep the graph connected so backward through an all-unrouted batch still works.
            return TensorNumberOps.AddTensors(output, TensorNumberOps.Multiply(combineWeights.sum(), 0)).MoveToOuterDisposeScope();
        }

        var expertIndex = pairs.select(1, 0);
        var tokenIndex = pairs.select(1, 1);
        long[] perExpert = routed.sum(dim: 0, type: ScalarType.Int64).cpu().data<long>().ToArray();

        using Scalar rowStride = tokenCount.ToScalar(); // a long Scalar: a double one would promote the index to float
        var flatIndex = TensorNumberOps.AddTensors(expertIndex.mul(rowStride), tokenIndex);
        var pairWeights = combineWeights.t().reshape(-1).index_select(0, flatIndex);
        var gathered = tokens.index_select(0, tokenIndex);

        var usedExperts = new List<int>(perExpert.Length);
        long largestGroup = 0;
        for (int e = 0; e < perExpert.Length; e++)
        {
            if (perExpert[e] == 0) continue;
            usedExperts.Add(e);
            largestGroup = Math.Max(largestGroup, perExpert[e]);
        }

        var expertOutputs = usedExperts.Count > 1 && usedExperts.Count * largestGroup <= MaximumPaddingRatio * pairCount
            ? BatchedExperts(gathered, perExpert, usedExperts, largestGroup)
            : LoopedExperts(gathered, perExpert, usedExperts);
        var weighted = expertOutputs.mul(pairWeights.unsqueeze(1));
        return TensorNumberOps.IndexAdd(output, 0, tokenIndex, weighted).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Largest (used experts × largest group) / routed pairs for which the experts run as one padded batched matmul
    /// instead of a loop; padding rows cost compute but no gradient. Balanced routing over many small groups is
    /// faster batched; skewed routing would waste too much work. 0 always loops; infinity always batches. Default 1.3.
    /// </summary>
    public double MaximumPaddingRatio { get; set; } = 1.3;

    /// <summary>One FFN call per used expert on its contiguous group of rows (rows are sorted by expert).</summary>
    private Tensor LoopedExperts(Tensor gathered, long[] perExpert, List<int> usedExperts)
    {
        // unbind, not per-expert indexing: the backward of E separate select() calls would materialize E full-size
        // zero gradients per weight (quadratic in E); unbind's backward stacks the slices once. Likewise split, not
        // narrow, for the row groups.
        var weight1 = Weight1.unbind(0);
        var bias1 = Bias1.unbind(0);
        var weight2 = Weight2.unbind(0);
        var bias2 = Bias2.unbind(0);
        var groupSizes = new long[usedExperts.Count];
        for (int i = 0; i < groupSizes.Length; i++) groupSizes[i] = perExpert[usedExperts[i]];
        var groups = usedExperts.Count == 1 ? new[] { gathered } : gathered.split(groupSizes, 0);
        var outputs = new Tensor[usedExperts.Count];
        for (int i = 0; i < outputs.Length; i++)
        {
            int e = usedExperts[i];
            outputs[i] = Feedforward(groups[i], weight1[e], bias1[e], weight2[e], bias2[e]);
        }

        return outputs.Length == 1 ? outputs[0] : torch.cat(outputs, 0);
    }

    /// <summary>All used experts at once: rows padded to <c>[U, C, d]</c>, two <c>bmm</c>, rows gathered back in pair order.</summary>
    private Tensor BatchedExperts(Tensor gathered, long[] perExpert, List<int> usedExperts, long largestGroup)
    {
        long pairCount = gathered.shape[0];
        var paddedRow = new long[pairCount];
        long pair = 0;
        for (int u = 0; u < usedExperts.Count; u++)
        {
            long count = perExpert[usedExperts[u]];
            for (long r = 0; r < count; r++) paddedRow[pair++] = u * largestGroup + r;
        }

        var rowIndex = torch.tensor(paddedRow).to(gathered.device);
        var padded = torch.zeros(usedExperts.Count * largestGroup, ModelDimension, dtype: gathered.dtype, device: gathered.device)
            .index_copy(0, rowIndex, gathered)
            .view(usedExperts.Count, largestGroup, ModelDimension);

        Tensor weight1 = Weight1, bias1 = Bias1, weight2 = Weight2, bias2 = Bias2;
        if (usedExperts.Count != ExpertCount)
        {
            var used = torch.tensor(usedExperts.Select(e => (long)e).ToArray()).to(gathered.device);
            weight1 = weight1.index_select(0, used);
            bias1 = bias1.index_select(0, used);
            weight2 = weight2.index_select(0, used);
            bias2 = bias2.index_select(0, used);
        }

        // bmm + add rather than baddbmm: TorchSharp 0.107's baddbmm rejected these (valid) broadcast shapes.
        var hidden = TensorNumberOps.AddInPlace(torch.bmm(padded, weight1), bias1.unsqueeze(1));
        var output = TensorNumberOps.AddInPlace(torch.bmm(Activate(hidden), weight2), bias2.unsqueeze(1));
        return output.view(-1, ModelDimension).index_select(0, rowIndex);
    }

    private Tensor Activate(Tensor hidden) => _activation switch
    {
        ExpertActivation.Relu => nn.functional.relu(hidden),
        ExpertActivation.Silu => nn.functional.silu(hidden),
        _ => nn.functional.gelu(hidden),
    };

    private Tensor Feedforward(Tensor rows, Tensor weight1, Tensor bias1, Tensor weight2, Tensor bias2)
    {
        var hidden = torch.addmm(bias1, rows, weight1, 1f, 1f);
        return torch.addmm(bias2, Activate(hidden), weight2, 1f, 1f);
    }

    private static Tensor UniformSymmetric(Generator? generator, double bound, params long[] shape)
        => TensorNumberOps.ScaleToSymmetric(torch.rand(shape, generator: generator), bound);
}
