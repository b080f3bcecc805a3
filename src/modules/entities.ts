import { RefreshToken } from './accounts/refresh-token.entity';
import { User } from './accounts/user.entity';
import { Category } from './catalog/category.entity';
import { ProductVariant } from './catalog/product-variant.entity';
import { Product } from './catalog/product.entity';
import { Address } from './addresses/address.entity';
import { Cart, CartItem } from './cart/cart.entity';
import { Review } from './reviews/review.entity';
import { Wishlist, WishlistItem } from './wishlist/wishlist.entity';
import { Discount, DiscountRedemption } from './discounts/discount.entity';
import { InventoryMovement } from './orders/inventory-movement.entity';
import { IdempotencyKey, Order, OrderItem } from './orders/order.entity';
import { Payment, PaymentEvent } from './payments/payment.entity';
import { Shipment } from './shipments/shipment.entity';

/** Every entity of every module: the ORM is configured with exactly this list. */
export const entities = [
  User,
  RefreshToken,
  Category,
  Product,
  ProductVariant,
  Address,
  Cart,
  CartItem,
  Wishlist,
  WishlistItem,
  Review,
  Discount,
  DiscountRedemption,
  Order,
  OrderItem,
  IdempotencyKey,
  InventoryMovement,
  Payment,
  PaymentEvent,
  Shipment,
];
