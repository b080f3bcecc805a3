import type { components } from '../../../generated/openapi';
import { moneyOut } from '../../shared/money';
import type { Discount } from './discount.entity';

export function toDiscountDto(d: Discount): components['schemas']['Discount'] {
  return {
    id: d.id,
    code: d.code,
    description: d.description,
    kind: d.kind,
    value: moneyOut(d.value),
    valid_from: d.validFrom?.toISOString() ?? null,
    valid_to: d.validTo?.toISOString() ?? null,
    is_active: d.isActive,
    min_subtotal: d.minSubtotal === null ? null : moneyOut(d.minSubtotal),
    max_uses: d.maxUses,
    max_uses_per_user: d.maxUsesPerUser,
    times_used: d.timesUsed,
    products: d.products.isInitialized() ? d.products.getItems().map((p) => p.id).sort((a, b) => a - b) : [],
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
  };
}
