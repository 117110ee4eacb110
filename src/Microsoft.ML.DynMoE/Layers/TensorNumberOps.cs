using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// Tensor-with-number operations for per-step code. An implicit number-to-<see cref="Scalar"/> conversion leaves the
/// Scalar to its finalizer, which may run while the native call that received the Scalar's handle is still executing
/// and corrupt it; holding the Scalar in a <c>using</c> keeps it reachable for the whole call and frees it promptly.
/// </summary>
internal static class TensorNumberOps
{
    /// <summary><c>a + b</c>: <c>Tensor.add(Tensor)</c> would pass an implicit alpha Scalar of 1.</summary>
    public static Tensor AddTensors(Tensor a, Tensor b)
    {
        using Scalar one = 1.ToScalar(); // integral, so int64 counts and indices accept it too
        return a.add(b, one);
    }

    /// <summary><c>a += b</c> in place, with a held alpha Scalar (see <see cref="AddTensors"/>).</summary>
    public static Tensor AddInPlace(Tensor a, Tensor b)
    {
        using Scalar one = 1.ToScalar(); // integral, so int64 counts and indices accept it too
        return a.add_(b, one);
    }

    public static Tensor ClampMin(Tensor tensor, double minimum) => WithScalar(tensor, minimum, static (t, value) => t.clamp_min(value));

    public static Tensor Multiply(Tensor tensor, double factor) => WithScalar(tensor, factor, static (t, value) => t.mul(value));

    public static Tensor Add(Tensor tensor, double addend)
    {
        using Scalar value = addend.ToScalar();
        using Scalar one = 1.ToScalar(); // add(Scalar) would pass an implicit alpha of 1
        return tensor.add(value, one);
    }

    public static Tensor GreaterThan(Tensor tensor, double threshold) => WithScalar(tensor, threshold, static (t, value) => t.gt(value));

    public static Tensor EqualTo(Tensor tensor, double other) => WithScalar(tensor, other, static (t, value) => t.eq(value));

    /// <summary><c>tensor²</c>: TorchSharp's <c>square()</c> is <c>pow(2)</c> with an implicit Scalar.</summary>
    public static Tensor Square(Tensor tensor)
    {
        using Scalar two = 2.ToScalar(); // integral, as square() passes it
        return tensor.pow(two);
    }

    public static Tensor MaskedFill(Tensor tensor, Tensor mask, double fill)
    {
        using Scalar value = fill.ToScalar();
        return tensor.masked_fill(mask, value);
    }

    /// <summary>Runs a one-Scalar operation with <paramref name="number"/> held as a Scalar for the whole call.</summary>
    private static Tensor WithScalar(Tensor tensor, double number, Func<Tensor, Scalar, Tensor> operation)
    {
        using Scalar value = number.ToScalar();
        return operation(tensor, value);
    }

    /// <summary><c>uniform(-bound, bound)</c> from a <c>[0, 1)</c> tensor, in place.</summary>
    public static Tensor ScaleToSymmetric(Tensor unit, double bound)
    {
        using Scalar twice = (2 * bound).ToScalar();
        using Scalar shift = bound.ToScalar();
        return unit.mul_(twice).sub_(shift);
    }

    public static Tensor MultiplyInPlace(Tensor tensor, double factor) => WithScalar(tensor, factor, static (t, value) => t.mul_(value));

    /// <summary><c>tensor.index_add(dim, index, source)</c> with alpha = 1 held.</summary>
    public static Tensor IndexAdd(Tensor tensor, long dim, Tensor index, Tensor source)
    {
        using Scalar one = 1.ToScalar();
        return tensor.index_add(dim, index, source, one);
    }
}
