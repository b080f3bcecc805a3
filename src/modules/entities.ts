import { RefreshToken } from './accounts/refresh-token.entity';
import { User } from './accounts/user.entity';
import { Category } from './catalog/category.entity';
import { ProductVariant } from './catalog/product-variant.entity';
import { Product } from './catalog/product.entity';

/** Every entity of every module: the ORM is configured with exactly this list. */
export const entities = [User, RefreshToken, Category, Product, ProductVariant];
